"""Every write of talent apartments and affordable rentals: photos, rounds, applications and
their review, the reproducible draw, offers that pass down the ranks on decline or expiry
without ever putting one unit before two people, leases with their rent-free terms,
renewals, move-outs and the yearly re-check."""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid
from collections import Counter
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Case, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apartments import lottery
from apartments.constants import (
    ApplicantList,
    HousingApplicationStatus,
    LeaseEndReason,
    LeaseStatus,
    OfferStatus,
    ProjectKind,
    RecheckAnswer,
    RoundStatus,
    UnitState,
)
from apartments.models import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    LeaseRecheck,
    ProjectPhoto,
    RoundUnitType,
    Unit,
    UnitType,
)
from apartments.rules import housing as rules
from apartments.selectors import housing as selectors
from portal import services as portal_services
from portal import workflow
from portal.constants import AuditAction, DocumentKind, Role
from portal.models import AuditEntry, Document, User
from portal.permissions import can_review_district, register_document_reader
from portal.rules import RuleResult, months_later
from portal.selectors import district_staff
from portal.services.documents import image_reencode, sniff_content_type

__all__ = [
    "MAX_UNITS_AT_ONCE",
    "STAFF_UNIT_STATES",
    "project_photo_delete",
    "unit_set_state",
    "units_add",
    "housing_application_approve",
    "housing_application_reject",
    "housing_application_submit",
    "housing_application_withdraw",
    "housing_eligibility",
    "housing_offer_accept",
    "housing_offer_decline",
    "housing_offer_withdraw",
    "housing_offers_expire",
    "housing_offers_fill",
    "housing_offers_run",
    "lease_end",
    "lease_recheck_answer",
    "lease_renew",
    "leases_recheck_remind",
    "project_photo_add",
    "round_close",
    "round_draw",
    "round_draw_start",
    "round_publish",
    "round_publish_seed",
]

logger = logging.getLogger(__name__)

A = HousingApplicationStatus
O = OfferStatus  # noqa: E741
PHOTO_SIZE = (1600, 1200)
STAFF_UNIT_STATES = (UnitState.VACANT, UnitState.MAINTENANCE)
MAX_UNITS_AT_ONCE = 2000
THUMBNAIL_SIZE = (480, 360)
DRAW_BATCH = 500


def _staff_of(actor: User, district_id: int) -> bool:
    return actor.is_portal_staff and can_review_district(actor, district_id)


def _district_of_application(app: HousingApplication) -> int:
    return app.round.project.district_id


# --- photos -----------------------------------------------------------------------------------


def project_photo_add(*, project: HousingProject, actor: User, upload, caption: str = "") -> ProjectPhoto:
    """A picture for the project page: checked by content, re-encoded without EXIF, stored in
    two sizes (the page and the list's thumbnail)."""
    from django.conf import settings

    if not _staff_of(actor, project.district_id):
        raise PermissionDenied
    if upload.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            _("The picture is larger than %(mb)d MB.") % {"mb": settings.DOCUMENT_MAX_BYTES // 2**20}, code="too_large"
        )
    data = upload.read()
    content_type = sniff_content_type(data[:16])
    if content_type not in ("image/jpeg", "image/png"):
        raise ValidationError(_("The photo must be a JPEG or PNG picture."), code="bad_type")
    extension = "jpg" if content_type == "image/jpeg" else "png"
    image = image_reencode(data, content_type, max_size=PHOTO_SIZE)
    thumbnail = image_reencode(image, content_type, max_size=THUMBNAIL_SIZE)
    photo = ProjectPhoto(project=project, caption=caption[:100], sort_order=project.photos.count())
    photo.image.save(f"project-{project.pk}.{extension}", ContentFile(image), save=False)
    photo.thumbnail.save(f"project-{project.pk}-thumb.{extension}", ContentFile(thumbnail), save=False)
    photo.save()
    return photo


def units_add(
    *, project: HousingProject, actor: User, unit_type: UnitType, building: str, floors: range, per_floor: int
) -> tuple[int, list[str]]:
    """Create the units of a building floor by floor, numbered <floor><two digits> (301, 302, ...). Numbers that exist already
    are left as they are and returned. Written to the project's audit trail."""
    if not (actor.is_portal_staff and can_review_district(actor, project.district_id)):
        raise PermissionDenied
    if unit_type.project_id != project.pk:
        raise ValidationError(_("Choose a unit type of this project."))
    wanted = [(floor, f"{floor}{n:02d}") for floor in floors for n in range(1, per_floor + 1)]
    if len(wanted) > MAX_UNITS_AT_ONCE:
        raise ValidationError(_("Add at most %(n)d units at once.") % {"n": MAX_UNITS_AT_ONCE})
    with transaction.atomic():
        HousingProject.objects.select_for_update().filter(pk=project.pk).first()
        existing = set(Unit.objects.filter(project=project, building=building).values_list("number", flat=True))
        new = [
            Unit(project=project, unit_type=unit_type, building=building, floor=floor, number=number)
            for floor, number in wanted
            if number not in existing
        ]
        Unit.objects.bulk_create(new, batch_size=500)
        if new:
            portal_services.audit_record(
                actor=actor,
                action=AuditAction.DECISION,
                target=project,
                reason=_("%(n)d units of type %(type)s added in building %(building)s")
                % {"n": len(new), "type": unit_type.name, "building": building or "-"},
                detail={"unit_type": unit_type.pk, "building": building, "numbers": [u.number for u in new][:500]},
            )
    return len(new), sorted((n for _f, n in wanted if n in existing), key=lambda n: (len(n), n))


def unit_set_state(*, unit: Unit, actor: User, state: str) -> Unit:
    """Staff take a unit out for repairs and back: only between vacant and maintenance.
    Offered and let belong to the offers and leases, which set them."""
    if state not in STAFF_UNIT_STATES:
        raise ValidationError(_("Staff can set a unit only to vacant or maintenance."), code="state")
    with transaction.atomic():
        stored = Unit.objects.select_for_update().select_related("project").get(pk=unit.pk)
        if not _staff_of(actor, stored.project.district_id):
            raise PermissionDenied
        if stored.state == state:
            return stored
        if stored.state not in STAFF_UNIT_STATES:
            raise ValidationError(
                _("The state was not changed: the unit is now “%(state)s”.") % {"state": stored.get_state_display()},
                code="state",
            )
        Unit.objects.filter(pk=stored.pk).update(state=state)
        portal_services.audit_record(
            actor=actor, action=AuditAction.TRANSITION, target=stored, from_status=stored.state, to_status=state
        )
        stored.state = state
    unit.state = state
    return stored


def project_photo_delete(*, photo: ProjectPhoto, actor: User) -> None:
    """Remove a picture and its files from storage."""
    if not _staff_of(actor, photo.project.district_id):
        raise PermissionDenied
    files = [f.name for f in (photo.image, photo.thumbnail) if f]
    storage = photo.image.storage
    photo.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in files])


# --- eligibility and applications -------------------------------------------------------------


def housing_eligibility(
    *, user: User, project: HousingProject, no_home_declared: bool | None = None, today: dt.date | None = None
) -> RuleResult:
    """The project kind's rule for this graduate today, with the parameters in force."""
    today = today or timezone.localdate()
    facts = selectors.housing_facts(user=user, no_home_declared=no_home_declared)
    params = selectors.housing_params(on=today, district_id=project.district_id)
    return rules.housing_eligibility(kind=project.kind, facts=facts, params=params, today=today)


def housing_application_submit(
    *,
    applicant: User,
    round: AllocationRound,
    unit_types: Iterable[UnitType],
    household_size: int,
    no_home_declared: bool,
    documents: Iterable[Document] = (),
    note: str = "",
) -> HousingApplication:
    """Apply in an open round from the profile. The rule runs now and its result is stored
    with the parameters it used; one active application per round is a database rule."""
    if applicant.role != Role.GRADUATE:
        raise PermissionDenied(_("Only graduates can apply for housing."))
    round = AllocationRound.objects.select_related("project").get(pk=round.pk)
    if not round.is_open or not round.project.published:
        raise ValidationError(_("This round is not taking applications now."), code="closed")
    offered = set(round.unit_counts.values_list("unit_type_id", flat=True))
    types = list(unit_types)
    if not types:
        raise ValidationError(_("Choose at least one unit type you would accept."), code="unit_types")
    if any(t.pk not in offered for t in types):
        raise ValidationError(_("Choose only unit types this round offers."), code="unit_types")
    try:
        household_size = int(household_size)
    except (TypeError, ValueError):
        household_size = 0
    if not 1 <= household_size <= 10:
        raise ValidationError(_("The household size must be between 1 and 10."), code="household_size")
    if not no_home_declared:
        raise ValidationError(
            _("Please sign the declaration that you own no home in Luoyang."), code="no_home_declaration"
        )
    documents = list(documents)
    if any(d.owner_id != applicant.pk for d in documents):
        raise ValidationError(_("Choose only your own uploaded documents."), code="documents")
    # The degree certificate the rule reads from the profile goes with the application, so
    # the reviewing staff can open it whichever district the profile names.
    certificate = Document.objects.filter(owner=applicant, kind=DocumentKind.DEGREE_CERTIFICATE).order_by("-pk").first()
    if certificate is not None and certificate not in documents:
        documents.append(certificate)
    today = timezone.localdate()
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=applicant.pk).first()
            if selectors.active_application(user=applicant, round=round):
                raise ValidationError(_("You have already applied in this round."), code="duplicate")
            result = housing_eligibility(user=applicant, project=round.project, no_home_declared=True, today=today)
            if not result.eligible:
                raise ValidationError([ValidationError(str(c.message), code=c.code) for c in result.failures])
            facts = selectors.housing_facts(user=applicant, no_home_declared=True)
            app = HousingApplication.objects.create(
                round=round,
                applicant=applicant,
                household_size=household_size,
                no_home_declared_at=timezone.now(),
                note=note.strip(),
                eligibility=result.as_dict(),
                applicant_list=rules.applicant_list_for(kind=round.project.kind, result=result),
                bucket=rules.bucket_for(facts=facts, order=round.buckets),
            )
            app.unit_types.set(types)
            app.documents.set(documents)
            portal_services.notify(
                user=applicant,
                kind="housing_application_submitted",
                context={
                    "project": round.project.name,
                    "round": round.name,
                    "reference": app.reference,
                    "link": _my_link(),
                },
            )
    except IntegrityError as exc:  # the one-active-application index
        raise ValidationError(_("You have already applied in this round."), code="duplicate") from exc
    return app


def _my_link() -> str:
    return reverse("apartments:my_housing")


@register_document_reader
def _housing_staff_read_application_papers(user: User, document) -> bool:
    """Staff of the project's district open the papers attached to a housing application
    they review, whichever district the applicant's profile names."""
    if not user.is_portal_staff:
        return False
    districts = HousingApplication.objects.filter(documents=document).values_list(
        "round__project__district_id", flat=True
    )
    return any(can_review_district(user, district_id) for district_id in districts)


def _owner(actor: User, app: HousingApplication) -> bool:
    return actor.pk == app.applicant_id


def _app_staff(actor: User, app: HousingApplication) -> bool:
    return _staff_of(actor, _district_of_application(app))


def _apply_withdraw(app: HousingApplication, actor, reason):
    # After the draw an applicant declines the offer instead; the ranks stay as drawn.
    if actor is not None and app.round.status != RoundStatus.OPEN:
        raise ValidationError(
            _("The draw has started: the application can no longer be withdrawn; decline the offer instead."),
            code="drawn",
        )
    return _apply_reason(app, actor, reason)


def _apply_review(app: HousingApplication, actor, reason):
    if app.round.status != RoundStatus.OPEN:
        raise ValidationError(_("The draw has started: applications can no longer be reviewed."))
    app.reviewed_by = actor
    app.reviewed_at = timezone.now()
    app.status_reason = reason
    return ["reviewed_by", "reviewed_at", "status_reason"]


def _apply_reason(app, actor, reason):
    app.status_reason = reason
    return ["status_reason"]


def _notify_applicant(kind: str):
    def produce(app: HousingApplication, entry: AuditEntry):
        yield (
            app.applicant,
            kind,
            {
                "project": app.round.project.name,
                "round": app.round.name,
                "reference": app.reference,
                "reason": entry.reason or "-",
                "link": _my_link(),
            },
        )

    return produce


workflow.register(
    workflow.Workflow(
        model_label="apartments.HousingApplication",
        transitions=[
            workflow.Transition(
                A.SUBMITTED,
                A.APPROVED,
                allowed=_app_staff,
                apply=_apply_review,
                notify=_notify_applicant("housing_application_approved"),
            ),
            workflow.Transition(
                A.SUBMITTED,
                A.REJECTED,
                allowed=_app_staff,
                requires_reason=True,
                apply=_apply_review,
                notify=_notify_applicant("housing_application_rejected"),
            ),
            workflow.Transition(A.SUBMITTED, A.WITHDRAWN, allowed=_owner, apply=_apply_withdraw),
            workflow.Transition(A.APPROVED, A.WITHDRAWN, allowed=_owner, apply=_apply_withdraw),
            # Taken by the offer and round services (actor None), never by a person directly.
            workflow.Transition(A.APPROVED, A.HOUSED, allowed=lambda actor, app: False),
            workflow.Transition(A.APPROVED, A.DECLINED, allowed=lambda actor, app: False, apply=_apply_reason),
            workflow.Transition(
                A.APPROVED,
                A.UNSUCCESSFUL,
                allowed=lambda actor, app: False,
                notify=_notify_applicant("housing_unsuccessful"),
            ),
        ],
    )
)


def housing_application_approve(*, application: HousingApplication, actor: User) -> AuditEntry:
    """District staff have checked the documents: the application takes part in the draw."""
    return portal_services.transition(obj=application, to=A.APPROVED, actor=actor)


def housing_application_reject(*, application: HousingApplication, actor: User, reason: str) -> AuditEntry:
    return portal_services.transition(obj=application, to=A.REJECTED, actor=actor, reason=reason)


def housing_application_withdraw(*, application: HousingApplication, actor: User, reason: str = "") -> AuditEntry:
    return portal_services.transition(obj=application, to=A.WITHDRAWN, actor=actor, reason=reason)


# --- rounds -----------------------------------------------------------------------------------


def _audit(actor: User | None, target, reason: str = "", **kwargs) -> None:
    action = AuditAction.TRANSITION if "to_status" in kwargs else AuditAction.DECISION
    portal_services.audit_record(actor=actor, action=action, target=target, reason=reason, **kwargs)


def _lock_round(round: AllocationRound) -> AllocationRound:
    """Lock the round's row: every draw, offer and answer of a round runs one at a time."""
    return AllocationRound.objects.select_for_update().select_related("project").get(pk=round.pk)


def round_publish(*, round: AllocationRound, actor: User) -> AllocationRound:
    """Make a prepared round public: graduates can apply in its window."""
    with transaction.atomic():
        locked = _lock_round(round)
        if not _staff_of(actor, locked.project.district_id):
            raise PermissionDenied
        if locked.status != RoundStatus.DRAFT:
            raise ValidationError(_("Only a draft round can be published."), code="status")
        counts = list(locked.unit_counts.select_related("unit_type"))
        if not counts or not sum(rc.units for rc in counts):
            raise ValidationError(_("Say how many units of which types the round offers."), code="no_units")
        for rc in counts:
            if rc.unit_type.project_id != locked.project_id:
                raise ValidationError(_("A unit type of another project is listed."), code="unit_type")
            available = _units_free_for_a_new_round(locked, rc.unit_type)
            if rc.units > available:
                raise ValidationError(
                    _(
                        "The round offers %(n)d units of type %(type)s, but only %(m)d are vacant and not "
                        "promised to another round."
                    )
                    % {"n": rc.units, "type": rc.unit_type.name, "m": available},
                    code="too_many_units",
                )
        locked.status = RoundStatus.OPEN
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, locked, from_status=RoundStatus.DRAFT, to_status=RoundStatus.OPEN)
    round.status = locked.status
    return locked


def _units_free_for_a_new_round(round: AllocationRound, unit_type: UnitType) -> int:
    """Vacant units of the type, less those other running rounds of the project have
    promised and not yet offered."""
    vacant = Unit.objects.filter(unit_type=unit_type, state=UnitState.VACANT).count()
    promised = 0
    others = RoundUnitType.objects.filter(
        unit_type=unit_type, round__status__in=[RoundStatus.OPEN, RoundStatus.DRAWING, RoundStatus.DRAWN]
    ).exclude(round=round)
    for other in others:
        taken = HousingOffer.objects.filter(
            application__round_id=other.round_id,
            unit__unit_type=unit_type,
            status__in=[OfferStatus.OFFERED, OfferStatus.ACCEPTED],
        ).count()
        promised += max(0, other.units - taken)
    return max(0, vacant - promised)


def round_publish_seed(*, round: AllocationRound, actor: User, public_seed: str, source: str) -> AllocationRound:
    """Fix the public random value that seeds the lottery. Only after the window closes
    (so no applicant could choose their number knowing it) and only once: the value and its
    source are then shown on the round's public page before anyone draws."""
    public_seed = (public_seed or "").strip()
    source = (source or "").strip()
    if not public_seed or not source:
        raise ValidationError(_("Give the public random value and where anyone can check it."), code="seed")
    with transaction.atomic():
        locked = _lock_round(round)
        if not _staff_of(actor, locked.project.district_id):
            raise PermissionDenied
        if locked.seed_published_at:
            raise ValidationError(_("The random value of this round is already published."), code="seed_fixed")
        if locked.status != RoundStatus.OPEN or timezone.now() < locked.closes_at:
            raise ValidationError(
                _("The random value is published after the application window closes."), code="window_open"
            )
        # Anyone can work out every ticket from the value: review must be over before it is
        # known, so no decision can be taken with the lottery's outcome in view.
        _check_reviewed(locked)
        locked.public_seed = public_seed[:100]
        locked.seed_source = source[:200]
        locked.seed_published_at = timezone.now()
        locked.save(update_fields=["public_seed", "seed_source", "seed_published_at", "updated_at"])
        _audit(actor, locked, reason=f"{public_seed} ({source})")
    return locked


def round_draw_start(*, round: AllocationRound, actor: User) -> AllocationRound:
    """The staff button: check the round is ready, mark it as drawing and run the draw as a
    Celery task (the admin shows its progress). Pressing it again changes nothing."""
    from apartments.tasks import round_draw as task

    with transaction.atomic():
        locked = _lock_round(round)
        if not _staff_of(actor, locked.project.district_id):
            raise PermissionDenied
        if locked.status in (RoundStatus.DRAWN, RoundStatus.CLOSED):
            return locked
        if locked.status != RoundStatus.DRAWING:
            _check_drawable(locked)
            locked.status = RoundStatus.DRAWING
            locked.draw_progress = 0
            _audit(actor, locked, from_status=RoundStatus.OPEN, to_status=RoundStatus.DRAWING)
        # Drawing already: send the task again (a lost message or a dead worker must not
        # leave the round stuck); the draw is idempotent, so a second run changes nothing.
        locked.draw_task_id = uuid.uuid4().hex
        locked.save(update_fields=["status", "draw_progress", "draw_task_id", "updated_at"])
        round_id, task_id = locked.pk, locked.draw_task_id
        transaction.on_commit(lambda: task.apply_async(args=(round_id,), task_id=task_id))
    return locked


def _check_drawable(round: AllocationRound) -> None:
    if round.status != RoundStatus.OPEN:
        raise ValidationError(_("Only a published round can be drawn."), code="status")
    if timezone.now() < round.closes_at:
        raise ValidationError(_("The application window is still open."), code="window_open")
    if not round.seed_published_at:
        raise ValidationError(_("Publish the public random value before the draw."), code="no_seed")
    _check_reviewed(round)


def _check_reviewed(round: AllocationRound) -> None:
    waiting = selectors.waiting_for_review(round=round)
    if waiting:
        raise ValidationError(
            ngettext(
                "%(n)d application is still waiting for review.",
                "%(n)d applications are still waiting for review.",
                waiting,
            )
            % {"n": waiting},
            code="unreviewed",
        )


def round_draw(*, round_id: int) -> dict:
    """Rank the approved applications of a round from its published seed (the Celery task).
    Idempotent: the ranks follow from the seed and the list, so a repeated or resumed run
    writes the same values, and a drawn round is left as it is."""
    round = AllocationRound.objects.select_related("project").get(pk=round_id)
    if round.status in (RoundStatus.DRAWN, RoundStatus.CLOSED):
        return {"round": round.pk, "ranked": 0, "already_drawn": True}
    if round.status != RoundStatus.DRAWING:
        raise ValidationError(_("The draw of this round has not been started."), code="status")
    apps = list(
        HousingApplication.objects.filter(round=round, status=A.APPROVED).only(
            "pk", "round_id", "applicant_list", "bucket"
        )
    )
    ranked = lottery.draw(
        public_seed=round.public_seed,
        round_id=round.pk,
        entries=[lottery.Entry(app.reference, app.applicant_list, app.bucket) for app in apps],
        buckets=round.buckets,
    )
    by_reference = {app.reference: app for app in apps}
    for start in range(0, len(ranked), DRAW_BATCH):
        batch = []
        for row in ranked[start : start + DRAW_BATCH]:
            app = by_reference[row.reference]
            app.ticket, app.rank, app.bucket_rank = row.ticket, row.rank, row.bucket_rank
            batch.append(app)
        with transaction.atomic():
            HousingApplication.objects.bulk_update(batch, ["ticket", "rank", "bucket_rank"])
            progress = min(99, round_progress(start + len(batch), len(ranked)))
            AllocationRound.objects.filter(pk=round.pk, status=RoundStatus.DRAWING).update(draw_progress=progress)
    with transaction.atomic():
        locked = _lock_round(round)
        if locked.status != RoundStatus.DRAWING:
            return {"round": round.pk, "ranked": 0, "already_drawn": True}
        locked.status = RoundStatus.DRAWN
        locked.draw_progress = 100
        locked.drawn_at = timezone.now()
        locked.save(update_fields=["status", "draw_progress", "drawn_at", "updated_at"])
        _audit(None, locked, from_status=RoundStatus.DRAWING, to_status=RoundStatus.DRAWN)
        for app in apps:
            portal_services.notify(
                user=app.applicant,
                kind="housing_ranked",
                context={
                    "project": locked.project.name,
                    "round": locked.name,
                    "reference": app.reference,
                    "rank": app.rank,
                    "list": str(ApplicantList(app.applicant_list).label),
                    "link": reverse("apartments:round_results", args=[locked.pk]),
                },
            )
    offers = housing_offers_fill(round=locked)
    return {"round": round.pk, "ranked": len(ranked), "offers": offers, "already_drawn": False}


def round_progress(done: int, total: int) -> int:
    return 100 if not total else math.floor(100 * done / total)


def round_close(*, round: AllocationRound, actor: User) -> AllocationRound:
    """End a drawn round once no offer is waiting: approved applicants who got no unit are
    told so."""
    with transaction.atomic():
        locked = _lock_round(round)
        if not _staff_of(actor, locked.project.district_id):
            raise PermissionDenied
        if locked.status != RoundStatus.DRAWN:
            raise ValidationError(_("Only a drawn round can be closed."), code="status")
        if HousingOffer.objects.filter(application__round=locked, status=O.OFFERED).exists():
            raise ValidationError(_("Some offers are still waiting for an answer."), code="open_offers")
        for app in HousingApplication.objects.filter(round=locked, status=A.APPROVED).select_related(
            "round__project", "applicant"
        ):
            portal_services.transition(obj=app, to=A.UNSUCCESSFUL, actor=None, reason=_("The round has closed."))
        locked.status = RoundStatus.CLOSED
        locked.save(update_fields=["status", "updated_at"])
        _audit(actor, locked, from_status=RoundStatus.DRAWN, to_status=RoundStatus.CLOSED)
    return locked


# --- offers -----------------------------------------------------------------------------------


def _list_caps(round: AllocationRound, used: Counter, total: int, today: dt.date) -> dict[str, int]:
    """How many units each list may hold. Talent apartments: one list. Affordable rentals:
    the graduates' share (rounded up, so at least the policy's 40%) is kept for them; from
    the spill-over day, what they have not taken goes to the general list."""
    if round.project.kind == ProjectKind.TALENT_APARTMENT:
        return {ApplicantList.GRADUATE: total, ApplicantList.GENERAL: 0}
    reserved = math.ceil(total * round.graduate_share / 100)
    if round.spill_over_on and today >= round.spill_over_on:
        graduates = used[ApplicantList.GRADUATE]
        return {ApplicantList.GRADUATE: graduates, ApplicantList.GENERAL: total - graduates}
    return {ApplicantList.GRADUATE: reserved, ApplicantList.GENERAL: total - reserved}


def _free_unit(round: AllocationRound, unit_type_id: int) -> Unit | None:
    return (
        Unit.objects.select_for_update(skip_locked=True)
        .filter(project_id=round.project_id, unit_type_id=unit_type_id, state=UnitState.VACANT)
        .order_by("building", "floor", "number")
        .first()
    )


def housing_offers_fill(*, round: AllocationRound, now: dt.datetime | None = None) -> int:
    """Offer free units of the round down the ranks: each list up to its cap, each type up
    to the units the round offers, each applicant one of the types they accept. Runs under
    the round's lock; the unique indexes on open offers stop any second offer of a unit."""
    now = now or timezone.now()
    made = 0
    with transaction.atomic():
        locked = _lock_round(round)
        if locked.status != RoundStatus.DRAWN:
            return 0
        quota = dict(locked.unit_counts.values_list("unit_type_id", "units"))
        total = sum(quota.values())
        live = list(
            HousingOffer.objects.filter(application__round=locked, status__in=[O.OFFERED, O.ACCEPTED]).values_list(
                "application__applicant_list", "unit__unit_type_id"
            )
        )
        used_list = Counter(lst for lst, _t in live)
        used_type = Counter(t for _l, t in live)
        caps = _list_caps(locked, used_list, total, timezone.localtime(now).date())
        deadline = now + dt.timedelta(days=locked.offer_days)
        waiting = (
            HousingApplication.objects.filter(round=locked, status=A.APPROVED, rank__isnull=False)
            .exclude(offers__status__in=[O.OFFERED, O.ACCEPTED])
            # A graduate housed meanwhile (another round, another project) gets no second unit.
            .exclude(applicant__leases__status=LeaseStatus.ACTIVE)
            .select_related("applicant")
            .prefetch_related("unit_types")
            # The graduates' list chooses first (the set-aside units "go first" to them),
            # then the general list, each down its ranks.
            .order_by(Case(When(applicant_list=ApplicantList.GRADUATE, then=0), default=1), "rank")
        )
        for app in waiting:
            lst = app.applicant_list
            if used_list[lst] >= caps.get(lst, 0):
                continue
            for unit_type in sorted(app.unit_types.all(), key=lambda t: (-t.area, t.pk)):
                if used_type[unit_type.pk] >= quota.get(unit_type.pk, 0):
                    continue
                unit = _free_unit(locked, unit_type.pk)
                if unit is None:
                    continue
                try:
                    with transaction.atomic():
                        _offer(app=app, unit=unit, deadline=deadline, round=locked)
                except IntegrityError:
                    # A unique index saw the unit or the applicant offered meanwhile by
                    # another transaction (the locks normally prevent it). Keep the offers
                    # made so far and stop, so nobody further down the ranks overtakes this
                    # applicant; the next run carries on.
                    logger.warning(
                        "Round %s: unit %s or application %s was offered meanwhile", locked.pk, unit.pk, app.pk
                    )
                    return made
                used_list[lst] += 1
                used_type[unit_type.pk] += 1
                made += 1
                break
    return made


def _offer(*, app: HousingApplication, unit: Unit, deadline: dt.datetime, round: AllocationRound) -> HousingOffer:
    offer = HousingOffer.objects.create(application=app, unit=unit, deadline=deadline)
    Unit.objects.filter(pk=unit.pk).update(state=UnitState.OFFERED)
    portal_services.notify(
        user=app.applicant,
        kind="housing_offer",
        context={
            "project": round.project.name,
            "unit": unit.label,
            "unit_type": unit.unit_type.name if unit.unit_type_id else "",
            "deadline": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
            "link": _my_link(),
        },
    )
    return offer


def _offer_owner(actor: User, offer: HousingOffer) -> bool:
    return actor.pk == offer.application.applicant_id


def _offer_staff(actor: User, offer: HousingOffer) -> bool:
    return _staff_of(actor, offer.unit.project.district_id)


def _apply_accept(offer: HousingOffer, actor, reason):
    if offer.deadline <= timezone.now():
        raise ValidationError(_("The deadline to answer this offer has passed."), code="expired")
    offer.responded_at = timezone.now()
    unit = Unit.objects.select_for_update().select_related("project", "unit_type").get(pk=offer.unit_id)
    if unit.state != UnitState.OFFERED:
        raise ValidationError(_("This unit is no longer available."), code="unit_gone")
    app = offer.application
    if Lease.objects.filter(tenant_id=app.applicant_id, status=LeaseStatus.ACTIVE).exists():
        raise ValidationError(_("You already rent a unit of the programme."), code="has_lease")
    portal_services.transition(obj=app, to=A.HOUSED, actor=None)
    _lease_create(offer=offer, unit=unit, tenant=app.applicant, round=app.round)
    Unit.objects.filter(pk=unit.pk).update(state=UnitState.LET)
    return ["responded_at"]


def _apply_release(offer: HousingOffer, actor, reason):
    """Decline, expiry or withdrawal: the unit is vacant again and goes to the next in rank
    (after commit, under the round's lock)."""
    offer.responded_at = timezone.now()
    offer.status_reason = reason
    Unit.objects.filter(pk=offer.unit_id, state=UnitState.OFFERED).update(state=UnitState.VACANT)
    app = offer.application
    if app.status == A.APPROVED:
        portal_services.transition(obj=app, to=A.DECLINED, actor=None, reason=reason)
    round_id = app.round_id
    transaction.on_commit(lambda: _refill(round_id))
    return ["responded_at", "status_reason"]


def _refill(round_id: int) -> None:
    from apartments.tasks import housing_offers_fill as task

    task.delay(round_id)


def _notify_offer(kind: str):
    def produce(offer: HousingOffer, entry: AuditEntry):
        yield (
            offer.application.applicant,
            kind,
            {
                "project": offer.unit.project.name,
                "unit": offer.unit.label,
                "reason": entry.reason or "-",
                "link": _my_link(),
            },
        )

    return produce


workflow.register(
    workflow.Workflow(
        model_label="apartments.HousingOffer",
        transitions=[
            workflow.Transition(
                O.OFFERED, O.ACCEPTED, allowed=_offer_owner, apply=_apply_accept, notify=_notify_offer("housing_lease")
            ),
            workflow.Transition(O.OFFERED, O.DECLINED, allowed=_offer_owner, apply=_apply_release),
            workflow.Transition(
                O.OFFERED,
                O.EXPIRED,
                allowed=lambda actor, offer: False,
                apply=_apply_release,
                notify=_notify_offer("housing_offer_expired"),
            ),
            workflow.Transition(
                O.OFFERED,
                O.WITHDRAWN,
                allowed=_offer_staff,
                requires_reason=True,
                apply=_apply_release,
                notify=_notify_offer("housing_offer_withdrawn"),
            ),
        ],
    )
)


def _offer_for_update(offer: HousingOffer) -> HousingOffer:
    return HousingOffer.objects.select_related("application__round__project", "unit__project").get(pk=offer.pk)


def housing_offer_accept(*, offer: HousingOffer, actor: User) -> Lease:
    """The applicant takes the unit: the application is housed, the unit let, and the lease
    drawn up with the rent-free terms in force."""
    offer = _offer_for_update(offer)
    with transaction.atomic():
        AllocationRound.objects.select_for_update().filter(pk=offer.application.round_id).first()
        try:
            with transaction.atomic():
                portal_services.transition(obj=offer, to=O.ACCEPTED, actor=actor)
        except IntegrityError as exc:
            raise ValidationError(_("This unit is no longer available."), code="unit_gone") from exc
    return Lease.objects.get(offer=offer)


def housing_offer_decline(*, offer: HousingOffer, actor: User, reason: str = "") -> AuditEntry:
    """The applicant turns the unit down; it passes to the next in rank."""
    offer = _offer_for_update(offer)
    return portal_services.transition(obj=offer, to=O.DECLINED, actor=actor, reason=reason)


def housing_offer_withdraw(*, offer: HousingOffer, actor: User, reason: str) -> AuditEntry:
    """Staff take back an offer (e.g. the unit turned out to need repairs, set it to
    maintenance first); the application counts as declined and the next in rank is offered
    a unit."""
    offer = _offer_for_update(offer)
    return portal_services.transition(obj=offer, to=O.WITHDRAWN, actor=actor, reason=reason)


def housing_offers_expire(*, now: dt.datetime | None = None) -> int:
    """Celery beat: offers past their deadline expire and their units pass on."""
    count = 0
    for offer in selectors.open_offers_due(now=now).select_related("application__round__project", "unit__project"):
        try:
            portal_services.transition(obj=offer, to=O.EXPIRED, actor=None, reason=_("No answer by the deadline"))
        except ValidationError:
            continue
        count += 1
    return count


def housing_offers_run(*, now: dt.datetime | None = None) -> dict:
    """Celery beat: expire overdue offers, then fill every drawn round (units freed by the
    spill-over day go to the general list this way)."""
    expired = housing_offers_expire(now=now)
    made = 0
    for round in AllocationRound.objects.filter(status=RoundStatus.DRAWN):
        made += housing_offers_fill(round=round, now=now)
    return {"expired": expired, "offers": made}


# --- leases -----------------------------------------------------------------------------------


def _rent_free_used(tenant: User, kind: str, exclude_pk: int | None = None) -> int:
    qs = Lease.objects.filter(tenant=tenant, unit__project__kind=kind).exclude(pk=exclude_pk)
    return sum(qs.values_list("rent_free_months", flat=True))


def _lease_create(
    *,
    offer: HousingOffer | None,
    unit: Unit,
    tenant: User,
    round: AllocationRound | None,
    start: dt.date | None = None,
    renewal_of: Lease | None = None,
    months: int | None = None,
) -> Lease:
    today = timezone.localdate()
    if start is None:
        start = max(today, round.move_in_on) if round and round.move_in_on else today
    project = unit.project
    params = selectors.lease_params(on=start, district_id=project.district_id)
    profile = getattr(tenant, "profile", None)
    terms = rules.lease_terms(
        kind=project.kind,
        outside_luoyang=profile.is_from_outside_luoyang if profile else None,
        monthly_rent=unit.unit_type.monthly_rent,
        start=start,
        months=months or params.lease_months,
        rent_free_used=_rent_free_used(tenant, project.kind),
        renewal=renewal_of is not None,
        params=params,
    )
    return Lease.objects.create(
        offer=offer,
        renewal_of=renewal_of,
        unit=unit,
        tenant=tenant,
        start=terms["start"],
        end=terms["end"],
        monthly_rent=terms["monthly_rent"],
        rent_free_months=terms["rent_free_months"],
        reduced_rent_percent=terms["reduced_rent_percent"],
        terms={**terms["parameters"], "start": terms["start"].isoformat(), "end": terms["end"].isoformat()},
        # A renewal keeps the tenancy's yearly rhythm: renewing before the re-check is due
        # must not push the question back by a year, every year.
        next_recheck_on=(renewal_of.next_recheck_on if renewal_of else None) or months_later(terms["start"], 12),
    )


def lease_renew(*, lease: Lease, actor: User, months: int | None = None) -> Lease:
    """Renew for another term from the day after the current one ends; rent-free months
    continue only up to the total the policy allows (3 years for talent apartments)."""
    with transaction.atomic():
        locked = (
            Lease.objects.select_for_update()
            .select_related("unit__project", "unit__unit_type", "tenant")
            .get(pk=lease.pk)
        )
        if not _staff_of(actor, locked.unit.project.district_id):
            raise PermissionDenied
        if locked.status != LeaseStatus.ACTIVE:
            raise ValidationError(_("Only an active lease can be renewed."), code="status")
        if months is not None and not 1 <= months <= 60:
            raise ValidationError(_("A renewal runs for 1 to 60 months."), code="months")
        Lease.objects.filter(pk=locked.pk).update(status=LeaseStatus.RENEWED)
        renewal = _lease_create(
            offer=None,
            unit=locked.unit,
            tenant=locked.tenant,
            round=None,
            start=locked.end,
            renewal_of=locked,
            months=months,
        )
        portal_services.audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=locked,
            from_status=LeaseStatus.ACTIVE,
            to_status=LeaseStatus.RENEWED,
        )
        portal_services.notify(
            user=locked.tenant,
            kind="housing_lease_renewed",
            context={
                "project": locked.unit.project.name,
                "unit": locked.unit.label,
                "end": renewal.end.isoformat(),
                "rent_free": renewal.rent_free_months,
                "link": _my_link(),
            },
        )
    return renewal


def lease_end(*, lease: Lease, actor: User, on: dt.date, reason: str, notes: str = "") -> Lease:
    """The tenant moves out (end of term or early exit): the unit is vacant again."""
    if reason not in LeaseEndReason.values:
        raise ValidationError(_("Choose why the lease ends."), code="reason")
    with transaction.atomic():
        locked = Lease.objects.select_for_update().select_related("unit__project", "tenant").get(pk=lease.pk)
        if not _staff_of(actor, locked.unit.project.district_id):
            raise PermissionDenied
        if locked.status != LeaseStatus.ACTIVE:
            raise ValidationError(_("This lease is not active."), code="status")
        if on < locked.start:
            raise ValidationError(_("The move-out day cannot be before the lease starts."), code="date")
        locked.status = LeaseStatus.ENDED
        locked.ended_on = on
        locked.end_reason = reason
        locked.move_out_notes = notes.strip()
        locked.save(update_fields=["status", "ended_on", "end_reason", "move_out_notes", "updated_at"])
        Unit.objects.filter(pk=locked.unit_id, state=UnitState.LET).update(state=UnitState.VACANT)
        portal_services.audit_record(
            actor=actor,
            action=AuditAction.TRANSITION,
            target=locked,
            from_status=LeaseStatus.ACTIVE,
            to_status=LeaseStatus.ENDED,
            reason=f"{LeaseEndReason(reason).label}: {notes}".strip(": "),
        )
    return locked


def leases_recheck_remind(*, today: dt.date | None = None) -> int:
    """Celery beat, daily: each active lease is asked once a year whether the tenant still
    works or runs a business in Luoyang; the district's staff are told too."""
    today = today or timezone.localdate()
    count = 0
    due = Lease.objects.filter(status=LeaseStatus.ACTIVE, next_recheck_on__lte=today).select_related(
        "unit__project__district", "tenant"
    )
    staff_of: dict[int, list[User]] = {}  # read once per district, not once per lease
    for lease in due:
        with transaction.atomic():
            recheck, created = LeaseRecheck.objects.get_or_create(lease=lease, due_on=lease.next_recheck_on)
            Lease.objects.filter(pk=lease.pk).update(next_recheck_on=months_later(lease.next_recheck_on, 12))
            if not created:
                continue
            context = {"project": lease.unit.project.name, "unit": lease.unit.label, "link": _my_link()}
            portal_services.notify(user=lease.tenant, kind="housing_recheck", context=context)
            district_id = lease.unit.project.district_id
            if district_id not in staff_of:
                staff_of[district_id] = list(district_staff(district_id=district_id))
            for member in staff_of[district_id]:
                portal_services.notify(
                    user=member,
                    kind="housing_recheck_staff",
                    context={**context, "tenant": str(lease.tenant), "link": ""},
                )
            count += 1
    return count


def lease_recheck_answer(*, recheck: LeaseRecheck, actor: User, answer: str, employer: str = "") -> LeaseRecheck:
    if recheck.lease.tenant_id != actor.pk:
        raise PermissionDenied
    if answer not in RecheckAnswer.values:
        raise ValidationError(_("Choose an answer."), code="answer")
    if answer == RecheckAnswer.WORKING_IN_LUOYANG and not employer.strip():
        raise ValidationError(_("Name your employer or business."), code="employer")
    updated = LeaseRecheck.objects.filter(pk=recheck.pk, answered_at__isnull=True).update(
        answer=answer, employer=employer.strip()[:100], answered_at=timezone.now()
    )
    if not updated:
        raise ValidationError(_("This question has already been answered."), code="answered")
    recheck.refresh_from_db()
    return recheck
