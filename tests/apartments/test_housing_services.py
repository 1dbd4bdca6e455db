"""The housing services: applying from the profile, staff review, the published seed and the
draw, offers that pass down the ranks on decline, expiry or withdrawal, the graduates'
set-aside of affordable rentals and its spill-over day, leases with their rent-free terms,
renewals, move-outs and the yearly re-check, and who may do what.

The clock fixture moves "now" from the application window to the draw and past deadlines.
Applicants are put in different priority groups where a test needs to know the ranks in
advance: out-of-town graduates, then master's, bachelor's and technicians from Luoyang."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from apartments import services
from apartments.constants import (
    ApplicantList,
    LeaseEndReason,
    LeaseStatus,
    OfferStatus,
    ProjectKind,
    RecheckAnswer,
    RoundStatus,
    UnitState,
)
from apartments.constants import HousingApplicationStatus as A
from apartments.models import AllocationRound, HousingApplication, HousingOffer, Lease, LeaseRecheck, Unit
from portal.constants import AuditAction, EducationLevel
from portal.models import AuditEntry, Notification
from portal.services import TransitionNotAllowed
from tests.apartments.conftest import DAY0, housing_apply, make_housing_graduate, make_project, make_round

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

SEED = "03 17 22 28 31 + 09"
SOURCE = "福彩双色球 2026138 期"
# make_round: the window closes 7 days after DAY0 (09:00); the draw is on the 8th day.
DRAW_DAY = DAY0 + dt.timedelta(days=8)

# The groups of the default order, from first to last, and who falls in each.
GROUP_PROFILES = {
    "out_of_town": {"hukou_city": "郑州市"},
    "postgraduate": {"hukou_city": "洛阳市", "education_level": EducationLevel.MASTER},
    "bachelor": {"hukou_city": "洛阳市"},
    "technician": {"hukou_city": "洛阳市", "education_level": EducationLevel.TECHNICIAN},
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def codes(error: ValidationError) -> list[str]:
    return [e.code for e in error.error_list]


def person(district, group: str = "bachelor", **profile):
    return make_housing_graduate(district=district, **{**GROUP_PROFILES[group], **profile})


def notified(user, kind: str) -> int:
    return Notification.objects.filter(user=user, kind=kind).count()


def talent_project(district, types=(("两室一厅", "90", "1800", 1), ("单间", "45", "900", 1))):
    return make_project(district, types=types)


def approve_all(round, staff) -> None:
    for app in HousingApplication.objects.filter(round=round, status=A.SUBMITTED):
        services.housing_application_approve(application=app, actor=staff)


def draw(clock, round, staff, capture) -> None:
    """Close the window, publish the seed and press the draw button (the task runs eagerly,
    then the first offers go out)."""
    clock.set(DRAW_DAY)
    services.round_publish_seed(round=round, actor=staff, public_seed=SEED, source=SOURCE)
    with capture(execute=True):
        services.round_draw_start(round=round, actor=staff)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN


def open_offer(app) -> HousingOffer | None:
    return HousingOffer.objects.filter(application=app, status=OfferStatus.OFFERED).first()


def offered_apps(round) -> list[int]:
    return sorted(
        HousingOffer.objects.filter(application__round=round, status=OfferStatus.OFFERED).values_list(
            "application_id", flat=True
        )
    )


def by_rank(round, applicant_list=ApplicantList.GRADUATE) -> list[HousingApplication]:
    return list(
        HousingApplication.objects.filter(round=round, applicant_list=applicant_list, rank__isnull=False)
        .select_related("applicant")
        .order_by("rank")
    )


def reload(obj):
    obj.refresh_from_db()
    return obj


@pytest.fixture
def project(district_1):
    return talent_project(district_1)


@pytest.fixture
def round(project):
    return make_round(project)


# --- applying ------------------------------------------------------------------------------


def test_an_application_stores_the_rule_its_list_and_group(round, district_1):
    user = person(district_1, "postgraduate")
    app = housing_apply(user, round, household_size=2)
    assert app.status == A.SUBMITTED
    assert app.eligibility["eligible"] is True
    assert app.eligibility["parameters"] == {"graduation_years": 3, "evaluated_on": DAY0.isoformat()}
    assert [c["code"] for c in app.eligibility["criteria"]] == ["profile", "education", "no_active_lease"]
    assert (app.applicant_list, app.bucket) == (ApplicantList.GRADUATE, "postgraduate")
    assert app.no_home_declared_at == timezone.now()
    assert app.household_size == 2
    assert set(app.unit_types.all()) == set(round.project.unit_types.all())
    assert notified(user, "housing_application_submitted") == 1


def test_no_application_outside_the_window(clock, project, district_1):
    user = person(district_1)
    draft = make_round(project, status=RoundStatus.DRAFT, name="草稿")
    with pytest.raises(ValidationError) as refused:
        housing_apply(user, draft)
    assert codes(refused.value) == ["closed"]
    round = make_round(project, name="第二批")
    clock.set(DAY0 + dt.timedelta(days=7), hour=9)  # the closing minute
    with pytest.raises(ValidationError) as refused:
        housing_apply(user, round)
    assert refused.value.messages == ["This round is not taking applications now."]
    assert not HousingApplication.objects.exists()


def test_only_unit_types_the_round_offers(project, district_1):
    round = make_round(project, units={"单间": 0})  # the 45 m² type is not in this round
    user = person(district_1)
    single = project.unit_types.get(name="单间")
    for types in ([single], [single, project.unit_types.get(name="两室一厅")], []):
        with pytest.raises(ValidationError) as refused:
            housing_apply(user, round, types=types)
        assert codes(refused.value) == ["unit_types"]
    assert not HousingApplication.objects.exists()


def test_the_no_home_declaration_must_be_signed(round, district_1):
    with pytest.raises(ValidationError) as refused:
        services.housing_application_submit(
            applicant=person(district_1),
            round=round,
            unit_types=list(round.project.unit_types.all()),
            household_size=1,
            no_home_declared=False,
        )
    assert codes(refused.value) == ["no_home_declaration"]
    assert refused.value.messages == ["Please sign the declaration that you own no home in Luoyang."]


@pytest.mark.parametrize("size", [0, 11])
def test_the_household_size(round, district_1, size):
    with pytest.raises(ValidationError) as refused:
        housing_apply(person(district_1), round, household_size=size)
    assert codes(refused.value) == ["household_size"]


def test_an_ineligible_graduate_is_refused_with_the_criteria_that_failed(round, district_1):
    with pytest.raises(ValidationError) as refused:
        housing_apply(person(district_1, education_level=EducationLevel.JUNIOR_COLLEGE), round)
    assert codes(refused.value) == ["education"]
    assert "a bachelor's degree or above" in refused.value.messages[0]

    incomplete = make_housing_graduate(district=district_1, major="")
    with pytest.raises(ValidationError) as refused:
        housing_apply(incomplete, round)
    assert codes(refused.value) == ["profile"]
    assert refused.value.messages == ["Profile: still missing Major"]
    assert not HousingApplication.objects.exists()


def test_affordable_rentals_refuse_those_not_working_in_luoyang_and_list_older_graduates_generally(clock, district_1):
    project = make_project(district_1, kind=ProjectKind.AFFORDABLE_RENTAL, types=(("一室", "45", "800", 2),))
    round = make_round(project)
    with pytest.raises(ValidationError) as refused:
        housing_apply(person(district_1, works_in_luoyang=False), round)
    assert codes(refused.value) == ["works_in_luoyang"]

    recent = housing_apply(person(district_1), round)
    older = housing_apply(person(district_1, graduation_date=dt.date(2022, 5, 1)), round)
    junior = housing_apply(person(district_1, education_level=EducationLevel.JUNIOR_COLLEGE), round)
    assert [a.applicant_list for a in (recent, older, junior)] == [
        ApplicantList.GRADUATE,
        ApplicantList.GENERAL,
        ApplicantList.GRADUATE,
    ]
    assert older.eligibility["eligible"] is True
    graduation = next(c for c in older.eligibility["criteria"] if c["code"] == "graduation")
    assert graduation == {
        "code": "graduation",
        "passed": False,
        "blocking": False,
        "message": "Years since graduation: 4, more than 3 (general list)",
    }


def test_a_tenant_of_the_programme_cannot_apply_again(clock, round, project, district_1, staff_1):
    user = person(district_1)
    unit = project.units.first()
    Lease.objects.create(
        unit=unit,
        tenant=user,
        start=DAY0,
        end=DAY0 + dt.timedelta(days=365),
        monthly_rent=0,
    )
    with pytest.raises(ValidationError) as refused:
        housing_apply(user, round)
    assert codes(refused.value) == ["no_active_lease"]


def test_one_application_per_round_and_a_rejected_one_may_be_followed_by_another(round, district_1, staff_1):
    user = person(district_1)
    first = housing_apply(user, round)
    with pytest.raises(ValidationError) as refused:
        housing_apply(user, round)
    assert codes(refused.value) == ["duplicate"]
    assert HousingApplication.objects.filter(applicant=user).count() == 1

    services.housing_application_reject(application=first, actor=staff_1, reason="学历证书无法辨认")
    second = housing_apply(user, round)
    assert second.pk != first.pk
    services.housing_application_withdraw(application=second, actor=user)
    third = housing_apply(user, round)
    assert sorted(HousingApplication.objects.filter(applicant=user).values_list("status", flat=True)) == sorted(
        [A.REJECTED, A.WITHDRAWN, A.SUBMITTED]
    )
    assert third.status == A.SUBMITTED


def test_only_graduates_apply(round, staff_1):
    with pytest.raises(PermissionDenied):
        housing_apply(staff_1, round)


# --- review -----------------------------------------------------------------------------------


def test_approval_is_recorded_and_told_by_e_mail(
    round, district_1, staff_1, mailoutbox, django_capture_on_commit_callbacks
):
    user = person(district_1)
    app = housing_apply(user, round)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_application_approve(application=app, actor=staff_1)
    app.refresh_from_db()
    assert app.status == A.APPROVED
    assert (app.reviewed_by, app.reviewed_at) == (staff_1, timezone.now())
    entry = AuditEntry.objects.filter(action=AuditAction.TRANSITION, object_id=str(app.pk)).latest("pk")
    assert (entry.actor, entry.from_status, entry.to_status) == (staff_1, A.SUBMITTED, A.APPROVED)
    notification = Notification.objects.get(user=user, kind="housing_application_approved")
    assert app.reference in notification.body
    assert [(m.to, m.subject) for m in mailoutbox] == [([user.email], notification.title)]


def test_rejection_needs_a_reason_which_the_applicant_reads(round, district_1, staff_1):
    user = person(district_1)
    app = housing_apply(user, round)
    with pytest.raises(ValidationError) as refused:
        services.housing_application_reject(application=app, actor=staff_1, reason=" ")
    assert codes(refused.value) == ["reason_required"]
    services.housing_application_reject(application=app, actor=staff_1, reason="学历证书无法辨认")
    assert reload(app).status == A.REJECTED
    assert app.status_reason == "学历证书无法辨认"
    assert "学历证书无法辨认" in Notification.objects.get(user=user, kind="housing_application_rejected").body
    with pytest.raises(TransitionNotAllowed):
        services.housing_application_approve(application=app, actor=staff_1)


def test_staff_of_another_district_cannot_review(round, district_1, staff_2, city_staff):
    app = housing_apply(person(district_1), round)
    with pytest.raises(PermissionDenied):
        services.housing_application_approve(application=app, actor=staff_2)
    with pytest.raises(PermissionDenied):
        services.housing_application_reject(application=app, actor=staff_2, reason="x")
    assert reload(app).status == A.SUBMITTED
    services.housing_application_approve(application=app, actor=city_staff)  # city staff see every district
    assert reload(app).status == A.APPROVED


def test_staff_of_the_projects_district_open_the_papers_attached_to_an_application(
    round, district_1, district_2, staff_1, staff_2, graduate_a
):
    from portal.models import Document
    from portal.permissions import may_read_document

    user = person(district_2)  # registered in 涧西, applying in 洛龙
    paper = Document.objects.get(owner=user)
    services.housing_application_submit(
        applicant=user,
        round=round,
        unit_types=list(round.project.unit_types.all()),
        household_size=1,
        no_home_declared=True,
        documents=[paper],
    )
    assert may_read_document(staff_1, paper, owner_district_id=district_2.pk)
    assert may_read_document(staff_2, paper, owner_district_id=district_2.pk)  # the applicant's own district
    assert not may_read_document(graduate_a, paper, owner_district_id=district_2.pk)
    # A paper the applicant did not attach stays with the staff of their own district.
    other = make_housing_graduate(district=district_2)
    unattached = Document.objects.get(owner=other)
    assert not may_read_document(staff_1, unattached, owner_district_id=district_2.pk)


def test_an_applicant_cannot_approve_their_own_application(round, district_1):
    user = person(district_1)
    app = housing_apply(user, round)
    with pytest.raises(PermissionDenied):
        services.housing_application_approve(application=app, actor=user)


def test_the_applicant_withdraws_only_while_the_round_is_open(
    clock, round, district_1, staff_1, django_capture_on_commit_callbacks
):
    a, b, c = person(district_1), person(district_1), person(district_1)
    app_a, app_b, app_c = housing_apply(a, round), housing_apply(b, round), housing_apply(c, round)
    services.housing_application_withdraw(application=app_a, actor=a, reason="已找到住处")
    assert reload(app_a).status == A.WITHDRAWN
    with pytest.raises(PermissionDenied):  # nobody withdraws another's application
        services.housing_application_withdraw(application=app_b, actor=a)
    approve_all(round, staff_1)
    services.housing_application_withdraw(application=app_b, actor=b)  # approved, window open
    assert reload(app_b).status == A.WITHDRAWN
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError) as refused:  # after the draw the offer is declined instead
        services.housing_application_withdraw(application=app_c, actor=c)
    assert codes(refused.value) == ["drawn"]
    assert reload(app_c).status == A.APPROVED
    assert reload(app_c).rank == 1


# --- the seed and the draw ---------------------------------------------------------------------


def test_the_seed_is_published_after_the_window_closes_and_only_once(clock, round, staff_1, staff_2):
    with pytest.raises(ValidationError) as refused:
        services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    assert codes(refused.value) == ["window_open"]
    clock.set(DRAW_DAY)
    for seed, source in (("", SOURCE), (SEED, " ")):
        with pytest.raises(ValidationError) as refused:
            services.round_publish_seed(round=round, actor=staff_1, public_seed=seed, source=source)
        assert codes(refused.value) == ["seed"]
    with pytest.raises(PermissionDenied):
        services.round_publish_seed(round=round, actor=staff_2, public_seed=SEED, source=SOURCE)

    services.round_publish_seed(round=round, actor=staff_1, public_seed=f" {SEED} ", source=SOURCE)
    round.refresh_from_db()
    assert (round.public_seed, round.seed_source, round.seed_published_at) == (SEED, SOURCE, timezone.now())
    with pytest.raises(ValidationError) as refused:
        services.round_publish_seed(round=round, actor=staff_1, public_seed="01 02 03", source=SOURCE)
    assert codes(refused.value) == ["seed_fixed"]
    assert reload(round).public_seed == SEED


def test_the_draw_waits_for_the_window_the_seed_and_every_review(
    clock, round, district_1, staff_1, staff_2, django_capture_on_commit_callbacks
):
    housing_apply(person(district_1), round)
    waiting = housing_apply(person(district_1), round)
    approve_all(round, staff_1)
    housing_apply(person(district_1), round)  # a late one, not yet reviewed

    def refused_with() -> list[str]:
        with pytest.raises(ValidationError) as refused, django_capture_on_commit_callbacks(execute=True):
            services.round_draw_start(round=round, actor=staff_1)
        assert reload(round).status == RoundStatus.OPEN
        return codes(refused.value)

    assert refused_with() == ["window_open"]
    clock.set(DRAW_DAY)
    assert refused_with() == ["no_seed"]
    # The public value waits for the last review too (every ticket follows from it).
    with pytest.raises(ValidationError) as refused, translation.override("en"):
        services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    assert codes(refused.value) == ["unreviewed"]
    assert refused.value.messages == ["1 application is still waiting for review."]
    with pytest.raises(PermissionDenied):
        services.round_draw_start(round=round, actor=staff_2)
    with pytest.raises(ValidationError):  # the task refuses a round whose draw was not started
        services.round_draw(round_id=round.pk)

    late = HousingApplication.objects.get(round=round, status=A.SUBMITTED)
    services.housing_application_reject(application=late, actor=staff_1, reason="材料不全")
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    assert reload(round).status == RoundStatus.DRAWN
    assert reload(waiting).rank is not None and reload(late).rank is None


def test_a_draft_round_cannot_be_drawn(project, staff_1):
    round = make_round(project, status=RoundStatus.DRAFT)
    with pytest.raises(ValidationError) as refused:
        services.round_draw_start(round=round, actor=staff_1)
    assert codes(refused.value) == ["status"]


def test_the_draw_ranks_notifies_and_offers_once_however_often_it_runs(
    clock, round, district_1, staff_1, django_capture_on_commit_callbacks
):
    from apartments import tasks

    users = [person(district_1, group) for group in GROUP_PROFILES]
    apps = [housing_apply(u, round) for u in users]
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)

    # The groups decide here: out of town, master, bachelor, technician.
    assert [a.pk for a in by_rank(round)] == [a.pk for a in apps]
    assert [a.bucket_rank for a in by_rank(round)] == [1, 1, 1, 1]
    assert all(len(a.ticket) == 64 for a in by_rank(round))
    assert (round.draw_progress, round.drawn_at) == (100, timezone.now())
    assert offered_apps(round) == [apps[0].pk, apps[1].pk]  # two units: 90 m² and 45 m²

    def snapshot():
        return (
            list(
                HousingApplication.objects.order_by("pk").values_list("pk", "rank", "bucket_rank", "ticket", "status")
            ),
            list(
                HousingOffer.objects.order_by("pk").values_list("pk", "application_id", "unit_id", "status", "deadline")
            ),
            Notification.objects.count(),
            list(Unit.objects.order_by("pk").values_list("state", flat=True)),
        )

    before = snapshot()
    assert sum(notified(u, "housing_ranked") for u in users) == 4
    with django_capture_on_commit_callbacks(execute=True):
        assert services.round_draw_start(round=round, actor=staff_1).status == RoundStatus.DRAWN
        assert services.round_draw(round_id=round.pk) == {"round": round.pk, "ranked": 0, "already_drawn": True}
        tasks.round_draw.apply(args=(round.pk,)).get()
        assert services.housing_offers_fill(round=round) == 0
    assert snapshot() == before


def test_a_draw_interrupted_after_the_ranks_resumes_with_the_same_ranks(
    clock, round, district_1, staff_1, django_capture_on_commit_callbacks
):
    """A worker killed during the draw: the task runs again on the round still marked as
    drawing and writes the same ranks (the seed and the list decide them)."""
    for group in GROUP_PROFILES:
        housing_apply(person(district_1, group), round)
    approve_all(round, staff_1)
    clock.set(DRAW_DAY)
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    with django_capture_on_commit_callbacks(execute=False):  # the task is queued, not run
        services.round_draw_start(round=round, actor=staff_1)
    assert reload(round).status == RoundStatus.DRAWING
    first = services.round_draw(round_id=round.pk)
    ranks = list(HousingApplication.objects.order_by("pk").values_list("rank", "ticket"))
    HousingApplication.objects.update(rank=None)
    AllocationRound.objects.filter(pk=round.pk).update(status=RoundStatus.DRAWING)  # as if cut off
    HousingOffer.objects.all().delete()
    Unit.objects.update(state=UnitState.VACANT)
    again = services.round_draw(round_id=round.pk)
    assert first["ranked"] == again["ranked"] == 4
    assert list(HousingApplication.objects.order_by("pk").values_list("rank", "ticket")) == ranks


def test_the_review_closes_when_the_draw_starts(clock, round, district_1, staff_1, django_capture_on_commit_callbacks):
    housing_apply(person(district_1), round)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    app = HousingApplication.objects.get()
    with pytest.raises(TransitionNotAllowed):
        services.housing_application_reject(application=app, actor=staff_1, reason="x")


# --- offers down the ranks ------------------------------------------------------------------------


@pytest.fixture
def ranked(clock, district_1, staff_1, django_capture_on_commit_callbacks):
    """A one-type round of two 45 m² units with four applicants, one per group (so the ranks
    are known): the first two get the offers."""
    project = talent_project(district_1, types=(("单间", "45", "900", 2),))
    round = make_round(project)
    apps = [housing_apply(person(district_1, group), round) for group in GROUP_PROFILES]
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    assert [a.pk for a in by_rank(round)] == [a.pk for a in apps]
    return round, [reload(a) for a in apps]


def test_a_declined_unit_passes_to_the_next_in_rank(ranked, django_capture_on_commit_callbacks):
    round, apps = ranked
    first = open_offer(apps[0])
    assert offered_apps(round) == [apps[0].pk, apps[1].pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_decline(offer=first, actor=apps[0].applicant, reason="离单位太远")
    assert reload(first).status == OfferStatus.DECLINED
    assert first.responded_at == timezone.now()
    assert reload(apps[0]).status == A.DECLINED
    third = open_offer(apps[2])
    assert third.unit_id == first.unit_id
    assert reload(third.unit).state == UnitState.OFFERED
    assert offered_apps(round) == [apps[1].pk, apps[2].pk]
    assert notified(apps[2].applicant, "housing_offer") == 1
    with pytest.raises(TransitionNotAllowed):  # answered once
        services.housing_offer_accept(offer=first, actor=apps[0].applicant)


def test_an_unanswered_offer_expires_on_the_beat_and_passes_on(clock, ranked):
    round, apps = ranked
    offer = open_offer(apps[0])
    assert offer.deadline == timezone.now() + dt.timedelta(days=7)
    clock.set(DRAW_DAY + dt.timedelta(days=7), hour=9, minute=59)  # a minute before: nothing happens
    assert services.housing_offers_run() == {"expired": 0, "offers": 0}
    clock.set(DRAW_DAY + dt.timedelta(days=7), hour=10, minute=5)
    # Both offers expire; the beat's fill (eager refill tasks already did) offers the units on.
    result = services.housing_offers_run()
    assert result["expired"] == 2
    assert reload(offer).status == OfferStatus.EXPIRED
    assert reload(apps[0]).status == A.DECLINED
    assert notified(apps[0].applicant, "housing_offer_expired") == 1
    assert offered_apps(round) == [apps[2].pk, apps[3].pk]
    assert open_offer(apps[2]).deadline == timezone.now() + dt.timedelta(days=7)


def test_an_accepted_offer_after_its_deadline_is_refused(clock, ranked):
    round, apps = ranked
    offer = open_offer(apps[0])
    clock.set(DRAW_DAY + dt.timedelta(days=7), hour=10)  # the deadline minute
    with pytest.raises(ValidationError) as refused:
        services.housing_offer_accept(offer=offer, actor=apps[0].applicant)
    assert codes(refused.value) == ["expired"]
    assert refused.value.messages == ["The deadline to answer this offer has passed."]
    assert reload(offer).status == OfferStatus.OFFERED
    assert not Lease.objects.exists()
    clock.set(DRAW_DAY + dt.timedelta(days=7), hour=10, minute=1)
    assert services.housing_offers_expire() == 2
    assert reload(offer).status == OfferStatus.EXPIRED


def test_accepting_lets_the_unit_houses_the_applicant_and_draws_up_the_lease(ranked):
    round, apps = ranked
    offer = open_offer(apps[1])
    lease = services.housing_offer_accept(offer=offer, actor=apps[1].applicant)
    assert reload(offer).status == OfferStatus.ACCEPTED
    assert reload(apps[1]).status == A.HOUSED
    assert reload(offer.unit).state == UnitState.LET
    assert (lease.offer, lease.unit, lease.tenant) == (offer, offer.unit, apps[1].applicant)
    assert (lease.start, lease.end) == (DRAW_DAY, DRAW_DAY.replace(year=DRAW_DAY.year + 1))
    assert lease.status == LeaseStatus.ACTIVE
    assert lease.monthly_rent == offer.unit.unit_type.monthly_rent
    assert (lease.rent_free_months, lease.reduced_rent_percent) == (12, 50)
    assert lease.terms["talent_rent_free_months"] == 36
    assert lease.next_recheck_on == DRAW_DAY.replace(year=DRAW_DAY.year + 1)
    assert notified(apps[1].applicant, "housing_lease") == 1
    # Taken units are not offered again.
    assert services.housing_offers_fill(round=round) == 0


def test_leases_start_on_the_rounds_move_in_day(clock, district_1, staff_1, django_capture_on_commit_callbacks):
    project = talent_project(district_1, types=(("单间", "45", "900", 1),))
    move_in = DAY0 + dt.timedelta(days=30)
    round = make_round(project, move_in_on=move_in)
    app = housing_apply(person(district_1), round)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    lease = services.housing_offer_accept(offer=open_offer(app), actor=app.applicant)
    assert lease.start == move_in


def test_only_the_applicant_answers_their_offer(ranked, district_1, staff_1):
    round, apps = ranked
    offer = open_offer(apps[0])
    for intruder in (apps[1].applicant, person(district_1), staff_1):
        with pytest.raises(PermissionDenied):
            services.housing_offer_accept(offer=offer, actor=intruder)
        with pytest.raises(PermissionDenied):
            services.housing_offer_decline(offer=offer, actor=intruder)
    assert reload(offer).status == OfferStatus.OFFERED
    assert not Lease.objects.exists()


def test_staff_withdraw_an_offer_with_a_reason_and_the_next_in_rank_is_offered(
    ranked, staff_1, staff_2, django_capture_on_commit_callbacks
):
    round, apps = ranked
    offer = open_offer(apps[0])
    with pytest.raises(PermissionDenied):
        services.housing_offer_withdraw(offer=offer, actor=staff_2, reason="维修")
    with pytest.raises(PermissionDenied):
        services.housing_offer_withdraw(offer=offer, actor=apps[0].applicant, reason="维修")
    with pytest.raises(ValidationError) as refused:
        services.housing_offer_withdraw(offer=offer, actor=staff_1, reason="")
    assert codes(refused.value) == ["reason_required"]

    # The unit needs repairs: staff set it to maintenance first, then withdraw.
    Unit.objects.filter(pk=offer.unit_id).update(state=UnitState.MAINTENANCE)
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_withdraw(offer=offer, actor=staff_1, reason="卫生间漏水，需维修")
    assert reload(offer).status == OfferStatus.WITHDRAWN
    assert reload(apps[0]).status == A.DECLINED
    assert reload(offer.unit).state == UnitState.MAINTENANCE  # not offered again
    assert "卫生间漏水" in Notification.objects.get(user=apps[0].applicant, kind="housing_offer_withdrawn").body
    # No other unit of the type is free, so nobody new is offered until the repair.
    assert offered_apps(round) == [apps[1].pk]
    Unit.objects.filter(pk=offer.unit_id).update(state=UnitState.VACANT)
    assert services.housing_offers_run()["offers"] == 1
    assert open_offer(apps[2]).unit_id == offer.unit_id


def test_an_applicant_who_accepts_only_90_square_metres_waits_for_a_90_square_metre_unit(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    project = talent_project(district_1)  # one unit of 90 m², one of 45 m²
    round = make_round(project)
    big = project.unit_types.get(name="两室一厅")
    small = project.unit_types.get(name="单间")
    first = housing_apply(person(district_1, "out_of_town"), round, types=[big])
    second = housing_apply(person(district_1, "postgraduate"), round, types=[big])
    third = housing_apply(person(district_1, "bachelor"), round, types=[small, big])
    fourth = housing_apply(person(district_1, "technician"), round, types=[small])
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)

    # The 90 m² unit to the first; the second waits; the third takes the 45 m² one.
    assert open_offer(first).unit.unit_type == big
    assert open_offer(second) is None
    assert open_offer(third).unit.unit_type == small
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_decline(offer=open_offer(third), actor=third.applicant)
    # The freed 45 m² unit skips the second (90 m² only) and goes to the fourth.
    assert open_offer(second) is None
    assert open_offer(fourth).unit.unit_type == small
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_decline(offer=open_offer(first), actor=first.applicant)
    assert open_offer(second).unit.unit_type == big


def test_the_round_offers_no_more_units_of_a_type_than_it_lists(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    project = talent_project(district_1, types=(("单间", "45", "900", 3),))
    round = make_round(project, units={"单间": 1})  # one of the three units in this round
    apps = [housing_apply(person(district_1, group), round) for group in GROUP_PROFILES]
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    assert offered_apps(round) == [apps[0].pk]
    assert Unit.objects.filter(state=UnitState.VACANT).count() == 2


# --- the graduates' set-aside in affordable rentals ----------------------------------------------


def affordable_round(district, *, units: int = 10, graduates: int, general: int, spill_over_on=None):
    project = make_project(
        district, kind=ProjectKind.AFFORDABLE_RENTAL, name="洛龙保障性租赁住房", types=(("一室", "45", "800", units),)
    )
    round = make_round(project, spill_over_on=spill_over_on)
    for _ in range(graduates):
        housing_apply(person(district), round)
    for _ in range(general):
        housing_apply(person(district, graduation_date=DAY0 - dt.timedelta(days=365 * 5)), round)
    return round


def offers_per_list(round) -> dict[str, int]:
    offers = HousingOffer.objects.filter(application__round=round, status=OfferStatus.OFFERED)
    return {
        lst: offers.filter(application__applicant_list=lst).count()
        for lst in (ApplicantList.GRADUATE, ApplicantList.GENERAL)
    }


def test_forty_percent_of_affordable_units_go_to_the_graduates_list(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    round = affordable_round(district_1, graduates=6, general=9)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 4, ApplicantList.GENERAL: 6}
    # The first four graduates and the first six of the general list, by rank.
    assert offered_apps(round) == sorted(
        [a.pk for a in by_rank(round, ApplicantList.GRADUATE)[:4]]
        + [a.pk for a in by_rank(round, ApplicantList.GENERAL)[:6]]
    )
    assert [a.rank for a in by_rank(round, ApplicantList.GENERAL)] == list(range(1, 10))


def test_unused_set_aside_units_wait_for_the_spill_over_day_then_go_to_the_general_list(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    spill_over = DRAW_DAY + dt.timedelta(days=20)
    round = affordable_round(district_1, graduates=2, general=10, spill_over_on=spill_over)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 2, ApplicantList.GENERAL: 6}
    assert Unit.objects.filter(state=UnitState.VACANT).count() == 2  # kept for graduates

    clock.set(spill_over - dt.timedelta(days=1), hour=23, minute=55)
    # Meanwhile the first offers expired and passed on within each list.
    with django_capture_on_commit_callbacks(execute=True):
        result = services.housing_offers_run()
    assert result["expired"] == 8
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 0, ApplicantList.GENERAL: 4}
    assert Unit.objects.filter(state=UnitState.VACANT).count() == 6

    clock.set(spill_over, hour=0, minute=5)
    with django_capture_on_commit_callbacks(execute=True):
        result = services.housing_offers_run()
    assert result == {"expired": 0, "offers": 0}  # the four general ranks left already hold offers
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 0, ApplicantList.GENERAL: 4}


def test_on_the_spill_over_day_the_reserved_units_are_offered_to_the_general_list(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    spill_over = DRAW_DAY + dt.timedelta(days=3)
    round = affordable_round(district_1, graduates=2, general=10, spill_over_on=spill_over)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    general = by_rank(round, ApplicantList.GENERAL)
    assert offered_apps(round) == sorted([a.pk for a in by_rank(round)] + [a.pk for a in general[:6]])

    clock.set(spill_over - dt.timedelta(days=1), hour=23, minute=55)
    assert services.housing_offers_run() == {"expired": 0, "offers": 0}
    clock.set(spill_over, hour=0, minute=5)
    assert services.housing_offers_run() == {"expired": 0, "offers": 2}
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 2, ApplicantList.GENERAL: 8}
    assert {open_offer(a) is not None for a in general[6:8]} == {True}
    assert open_offer(general[8]) is None
    assert Unit.objects.filter(state=UnitState.VACANT).count() == 0
    # A graduate who declines after the spill-over day frees a unit for the general list.
    graduate = by_rank(round)[0]
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_decline(offer=open_offer(graduate), actor=graduate.applicant)
    assert open_offer(general[8]) is not None
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 1, ApplicantList.GENERAL: 9}


def test_without_a_spill_over_day_the_set_aside_stays_with_the_graduates(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    round = affordable_round(district_1, graduates=1, general=12)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    clock.set(DRAW_DAY + dt.timedelta(days=365))
    services.housing_offers_run()
    assert (
        HousingOffer.objects.filter(application__applicant_list=ApplicantList.GENERAL).count() == 12
    )  # 6 + 6 after expiry
    assert HousingOffer.objects.filter(application__applicant_list=ApplicantList.GRADUATE).count() == 1


def test_the_graduates_list_chooses_its_units_first(clock, district_1, staff_1, django_capture_on_commit_callbacks):
    """One 60 m² unit and four of 45 m²: the first graduate gets the bigger one even though
    general-list applicants accept it too."""
    project = make_project(
        district_1,
        kind=ProjectKind.AFFORDABLE_RENTAL,
        name="洛龙保障性租赁住房",
        types=(("一室一厅", "60", "1000", 1), ("一室", "45", "800", 4)),
    )
    round = make_round(project)
    graduates = [housing_apply(person(district_1), round) for _ in range(2)]
    for _ in range(3):
        housing_apply(person(district_1, graduation_date=DAY0 - dt.timedelta(days=365 * 5)), round)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, django_capture_on_commit_callbacks)
    first = by_rank(round)[0]
    assert first.pk in {g.pk for g in graduates}
    assert open_offer(first).unit.unit_type.name == "一室一厅"
    assert offers_per_list(round) == {ApplicantList.GRADUATE: 2, ApplicantList.GENERAL: 3}


# --- closing the round -------------------------------------------------------------------------


def test_the_round_closes_once_no_offer_waits_and_the_rest_are_told(
    ranked, staff_1, staff_2, django_capture_on_commit_callbacks
):
    round, apps = ranked
    with pytest.raises(ValidationError) as refused:
        services.round_close(round=round, actor=staff_1)
    assert codes(refused.value) == ["open_offers"]
    with pytest.raises(PermissionDenied):
        services.round_close(round=round, actor=staff_2)
    services.housing_offer_accept(offer=open_offer(apps[0]), actor=apps[0].applicant)
    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_decline(offer=open_offer(apps[1]), actor=apps[1].applicant)
    services.housing_offer_accept(offer=open_offer(apps[2]), actor=apps[2].applicant)

    services.round_close(round=round, actor=staff_1)
    assert reload(round).status == RoundStatus.CLOSED
    assert [reload(a).status for a in apps] == [A.HOUSED, A.DECLINED, A.HOUSED, A.UNSUCCESSFUL]
    assert notified(apps[3].applicant, "housing_unsuccessful") == 1
    assert notified(apps[1].applicant, "housing_unsuccessful") == 0
    with pytest.raises(ValidationError) as refused:
        services.round_close(round=round, actor=staff_1)
    assert codes(refused.value) == ["status"]
    assert services.housing_offers_fill(round=round) == 0
    assert services.round_draw(round_id=round.pk)["already_drawn"]


def test_an_open_round_cannot_be_closed(round, staff_1):
    with pytest.raises(ValidationError) as refused:
        services.round_close(round=round, actor=staff_1)
    assert codes(refused.value) == ["status"]


# --- leases ----------------------------------------------------------------------------------


@pytest.fixture
def lease(ranked):
    round, apps = ranked
    return services.housing_offer_accept(offer=open_offer(apps[0]), actor=apps[0].applicant)


def test_talent_apartment_renewals_are_rent_free_up_to_three_years_in_all(clock, lease, staff_1):
    granted = [lease.rent_free_months]
    current = lease
    for _ in range(3):
        current = services.lease_renew(lease=current, actor=staff_1)
        granted.append(current.rent_free_months)
    assert granted == [12, 12, 12, 0]
    assert current.reduced_rent_percent == 50
    assert current.terms["rent_free_used_before"] == 36
    chain = list(Lease.objects.filter(unit=lease.unit).order_by("start"))
    assert [c.status for c in chain] == [LeaseStatus.RENEWED] * 3 + [LeaseStatus.ACTIVE]
    assert [c.start for c in chain[1:]] == [c.end for c in chain[:-1]]  # each continues the last
    assert chain[1].renewal_of == chain[0]
    assert reload(lease.unit).state == UnitState.LET
    assert notified(lease.tenant, "housing_lease_renewed") == 3
    with pytest.raises(ValidationError) as refused:  # only the active one renews
        services.lease_renew(lease=chain[0], actor=staff_1)
    assert codes(refused.value) == ["status"]


def test_a_renewal_of_another_length(lease, staff_1, staff_2):
    with pytest.raises(PermissionDenied):
        services.lease_renew(lease=lease, actor=staff_2)
    with pytest.raises(PermissionDenied):
        services.lease_renew(lease=lease, actor=lease.tenant)
    for months in (0, 61):
        with pytest.raises(ValidationError) as refused:
            services.lease_renew(lease=lease, actor=staff_1, months=months)
        assert codes(refused.value) == ["months"]
    renewal = services.lease_renew(lease=lease, actor=staff_1, months=30)
    assert (renewal.end - renewal.start).days > 900
    assert renewal.rent_free_months == 24  # the 36 months less the 12 already granted


def test_a_move_out_ends_the_lease_and_frees_the_unit(clock, lease, staff_1, staff_2):
    with pytest.raises(ValidationError) as refused:
        services.lease_end(lease=lease, actor=staff_1, on=lease.start, reason="moved")
    assert codes(refused.value) == ["reason"]
    with pytest.raises(ValidationError) as refused:
        services.lease_end(
            lease=lease, actor=staff_1, on=lease.start - dt.timedelta(days=1), reason=LeaseEndReason.EARLY_EXIT
        )
    assert codes(refused.value) == ["date"]
    with pytest.raises(PermissionDenied):
        services.lease_end(lease=lease, actor=staff_2, on=lease.start, reason=LeaseEndReason.EARLY_EXIT)

    moved_out = lease.start + dt.timedelta(days=100)
    ended = services.lease_end(
        lease=lease, actor=staff_1, on=moved_out, reason=LeaseEndReason.EARLY_EXIT, notes=" 到外地工作 "
    )
    assert (ended.status, ended.ended_on, ended.end_reason, ended.move_out_notes) == (
        LeaseStatus.ENDED,
        moved_out,
        LeaseEndReason.EARLY_EXIT,
        "到外地工作",
    )
    assert reload(lease.unit).state == UnitState.VACANT
    with pytest.raises(ValidationError) as refused:
        services.lease_end(lease=lease, actor=staff_1, on=moved_out, reason=LeaseEndReason.EARLY_EXIT)
    assert codes(refused.value) == ["status"]
    with pytest.raises(ValidationError):
        services.lease_renew(lease=lease, actor=staff_1)
    # The tenant may apply again later; the rent-free months already granted still count.
    assert services.housing_eligibility(user=lease.tenant, project=lease.unit.project).eligible


def test_rent_free_months_count_across_leases_of_the_same_kind(
    clock, district_1, staff_1, lease, django_capture_on_commit_callbacks
):
    services.lease_end(
        lease=lease, actor=staff_1, on=lease.start + dt.timedelta(days=300), reason=LeaseEndReason.TERM_ENDED
    )
    project = talent_project(district_1, types=(("单间", "45", "900", 1),))
    project.name = "第二公寓"
    project.save()
    clock.set(DRAW_DAY + dt.timedelta(days=30))
    round = make_round(project, name="第二批")
    app = housing_apply(lease.tenant, round)
    approve_all(round, staff_1)
    clock.set(DRAW_DAY + dt.timedelta(days=38))
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    second = services.housing_offer_accept(offer=open_offer(app), actor=lease.tenant)
    assert second.rent_free_months == 12
    assert second.terms["rent_free_used_before"] == 12


def affordable_lease(clock, district_1, staff_1, capture, **profile):
    project = make_project(district_1, kind=ProjectKind.AFFORDABLE_RENTAL, types=(("一室", "45", "800", 1),))
    round = make_round(project)
    app = housing_apply(person(district_1, **profile), round)
    approve_all(round, staff_1)
    draw(clock, round, staff_1, capture)
    return services.housing_offer_accept(offer=open_offer(app), actor=app.applicant)


def test_an_out_of_town_graduate_gets_three_rent_free_months_in_an_affordable_rental_once(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    lease = affordable_lease(clock, district_1, staff_1, django_capture_on_commit_callbacks, hukou_city="郑州市")
    assert (lease.rent_free_months, lease.reduced_rent_percent) == (3, 100)
    assert lease.rent_free_until == lease.start.replace(month=lease.start.month + 3)
    renewal = services.lease_renew(lease=lease, actor=staff_1)
    assert renewal.rent_free_months == 0


def test_a_local_graduate_gets_no_rent_free_months_in_an_affordable_rental(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    lease = affordable_lease(clock, district_1, staff_1, django_capture_on_commit_callbacks, hukou_city="洛阳市")
    assert lease.rent_free_months == 0
    assert lease.rent_free_until is None


def test_a_new_lease_uses_the_parameters_in_force_on_its_first_day(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    from apartments.constants import HOUSING_AFFORDABLE_RENT_FREE_MONTHS, HOUSING_LEASE_MONTHS
    from tests.apartments.conftest import set_parameter

    set_parameter(HOUSING_AFFORDABLE_RENT_FREE_MONTHS, 1, effective_from=DRAW_DAY + dt.timedelta(days=1))
    set_parameter(HOUSING_LEASE_MONTHS, 6, effective_from=DRAW_DAY + dt.timedelta(days=1))
    lease = affordable_lease(clock, district_1, staff_1, django_capture_on_commit_callbacks, hukou_city="郑州市")
    assert (lease.rent_free_months, lease.terms["lease_months"]) == (3, 12)  # accepted the day before
    # The renewal starts after the change: six months under the new rows.
    renewal = services.lease_renew(lease=lease, actor=staff_1)
    assert renewal.terms["lease_months"] == 6
    assert renewal.terms["affordable_rent_free_months"] == 1


# --- the yearly re-check -----------------------------------------------------------------------


def test_the_yearly_recheck_asks_the_tenant_and_tells_the_district_staff_once_a_year(
    clock, lease, staff_1, staff_2, district_1
):
    from tests.portal.factories import DistrictStaffFactory

    colleague = DistrictStaffFactory(districts=[district_1])
    due = lease.next_recheck_on
    clock.set(due - dt.timedelta(days=1))
    assert services.leases_recheck_remind() == 0
    clock.set(due, hour=9)
    assert services.leases_recheck_remind() == 1
    assert services.leases_recheck_remind() == 0  # the same day again: nothing new
    recheck = LeaseRecheck.objects.get()
    assert (recheck.lease, recheck.due_on, recheck.answer) == (lease, due, "")
    assert notified(lease.tenant, "housing_recheck") == 1
    assert notified(staff_1, "housing_recheck_staff") == 1
    assert notified(colleague, "housing_recheck_staff") == 1
    assert notified(staff_2, "housing_recheck_staff") == 0
    assert reload(lease).next_recheck_on == due.replace(year=due.year + 1)

    clock.set(due + dt.timedelta(days=200))
    assert services.leases_recheck_remind() == 0
    clock.set(due.replace(year=due.year + 1))
    assert services.leases_recheck_remind() == 1
    assert LeaseRecheck.objects.filter(lease=lease).count() == 2
    assert notified(lease.tenant, "housing_recheck") == 2


def test_renewing_before_the_recheck_does_not_put_the_question_off(clock, lease, staff_1):
    """Staff renew a month before the term ends (and before the first re-check is due):
    the renewal keeps the tenancy's yearly date instead of starting a new year."""
    due = lease.next_recheck_on
    clock.set(due - dt.timedelta(days=30))
    renewal = services.lease_renew(lease=lease, actor=staff_1)
    assert renewal.next_recheck_on == due
    clock.set(due)
    assert services.leases_recheck_remind() == 1
    assert LeaseRecheck.objects.get().lease == renewal
    assert reload(renewal).next_recheck_on == due.replace(year=due.year + 1)
    # Renewed after the question was asked: the next one stays a year on.
    clock.set(due + dt.timedelta(days=300))
    again = services.lease_renew(lease=renewal, actor=staff_1)
    assert again.next_recheck_on == due.replace(year=due.year + 1)


def test_an_ended_lease_is_not_rechecked(clock, lease, staff_1):
    services.lease_end(
        lease=lease, actor=staff_1, on=lease.start + dt.timedelta(days=30), reason=LeaseEndReason.EARLY_EXIT
    )
    clock.set(lease.next_recheck_on)
    assert services.leases_recheck_remind() == 0
    assert not LeaseRecheck.objects.exists()


def test_the_tenant_answers_the_recheck_once(clock, lease, district_1):
    clock.set(lease.next_recheck_on)
    services.leases_recheck_remind()
    recheck = LeaseRecheck.objects.get()
    with pytest.raises(PermissionDenied):
        services.lease_recheck_answer(recheck=recheck, actor=person(district_1), answer=RecheckAnswer.LEFT)
    with pytest.raises(ValidationError) as refused:
        services.lease_recheck_answer(recheck=recheck, actor=lease.tenant, answer="maybe")
    assert codes(refused.value) == ["answer"]
    with pytest.raises(ValidationError) as refused:
        services.lease_recheck_answer(recheck=recheck, actor=lease.tenant, answer=RecheckAnswer.WORKING_IN_LUOYANG)
    assert codes(refused.value) == ["employer"]

    answered = services.lease_recheck_answer(
        recheck=recheck, actor=lease.tenant, answer=RecheckAnswer.WORKING_IN_LUOYANG, employer=" 洛阳轴承集团 "
    )
    assert (answered.answer, answered.employer, answered.answered_at) == (
        RecheckAnswer.WORKING_IN_LUOYANG,
        "洛阳轴承集团",
        timezone.now(),
    )
    with pytest.raises(ValidationError) as refused:
        services.lease_recheck_answer(recheck=recheck, actor=lease.tenant, answer=RecheckAnswer.LEFT)
    assert codes(refused.value) == ["answered"]
    assert reload(recheck).answer == RecheckAnswer.WORKING_IN_LUOYANG


# --- no second unit, fair publishing, restartable draws, unit states --------------------------


def test_a_graduate_housed_in_another_round_gets_no_second_offer(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    """Housed in round B after applying in round A as well: round A's offers pass them by,
    and an offer made before the lease cannot be accepted."""
    first = talent_project(district_1, types=(("单间", "45", "900", 2),))
    second = make_project(district_1, name="第二公寓", types=(("单间", "45", "900", 1),))
    round_a, round_b = make_round(first), make_round(second, name="第二批")
    both = person(district_1, "out_of_town")
    other = person(district_1, "technician")
    app_a = housing_apply(both, round_a)
    housing_apply(other, round_a)
    app_b = housing_apply(both, round_b)
    approve_all(round_a, staff_1)
    approve_all(round_b, staff_1)
    draw(clock, round_b, staff_1, django_capture_on_commit_callbacks)
    services.housing_offer_accept(offer=open_offer(app_b), actor=both)

    clock.set(DRAW_DAY)
    services.round_publish_seed(round=round_a, actor=staff_1, public_seed=SEED, source=SOURCE)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round_a, actor=staff_1)

    assert open_offer(app_a) is None
    assert HousingOffer.objects.filter(application__round=round_a, status=OfferStatus.OFFERED).count() == 1
    assert Lease.objects.filter(tenant=both, status=LeaseStatus.ACTIVE).count() == 1


def test_an_offer_made_before_another_lease_cannot_be_accepted(ranked, district_1, staff_1):
    round, apps = ranked
    first = apps[0]
    Lease.objects.create(
        unit=Unit.objects.filter(state=UnitState.VACANT).first()
        or Unit.objects.create(project=round.project, unit_type=round.project.unit_types.first(), number="999"),
        tenant=first.applicant,
        start=timezone.localdate(),
        end=timezone.localdate() + dt.timedelta(days=365),
        monthly_rent=900,
    )
    with pytest.raises(ValidationError) as refused:
        services.housing_offer_accept(offer=open_offer(first), actor=first.applicant)
    assert codes(refused.value) == ["has_lease"]
    assert open_offer(first) is not None


def test_affordable_rent_free_months_come_once_even_after_moving_out(
    clock, district_1, staff_1, django_capture_on_commit_callbacks
):
    lease = affordable_lease(clock, district_1, staff_1, django_capture_on_commit_callbacks, hukou_city="郑州市")
    assert lease.rent_free_months == 3
    services.lease_end(lease=lease, actor=staff_1, on=lease.start + dt.timedelta(days=90), reason="early_exit")
    project = make_project(
        district_1, kind=ProjectKind.AFFORDABLE_RENTAL, name="第二保租房", types=(("一室", "45", "800", 1),)
    )
    clock.set(DRAW_DAY + dt.timedelta(days=30))
    round = make_round(project, name="第二批")
    app = housing_apply(lease.tenant, round)
    approve_all(round, staff_1)
    clock.set(DRAW_DAY + dt.timedelta(days=38))
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    second = services.housing_offer_accept(offer=open_offer(app), actor=lease.tenant)
    assert second.rent_free_months == 0


def test_a_round_cannot_promise_units_another_running_round_has_promised(district_1, staff_1):
    """Two units of each type; an open round offers both 45 m² units, so a second round may
    offer the 90 m² ones but no 45 m² unit."""
    project = make_project(district_1, name="三型公寓")
    make_round(project, units={"两室一厅": 0, "一室一厅": 0, "单间": 2})
    second = make_round(
        project, name="第二批", status=RoundStatus.DRAFT, units={"单间": 1, "两室一厅": 0, "一室一厅": 0}
    )
    with pytest.raises(ValidationError) as refused:
        services.round_publish(round=second, actor=staff_1)
    assert codes(refused.value) == ["too_many_units"]
    third = make_round(
        project, name="第三批", status=RoundStatus.DRAFT, units={"单间": 0, "两室一厅": 2, "一室一厅": 0}
    )
    services.round_publish(round=third, actor=staff_1)
    assert reload(third).status == RoundStatus.OPEN


def test_pressing_draw_on_a_stuck_round_sends_the_task_again(
    clock, round, district_1, staff_1, django_capture_on_commit_callbacks
):
    """The round says "drawing" but the task never ran (its message was lost): pressing the
    button again sends it; once drawn, pressing again sends nothing and changes nothing."""
    apps = [housing_apply(person(district_1, group), round) for group in GROUP_PROFILES]
    approve_all(round, staff_1)
    clock.set(DRAW_DAY)
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source=SOURCE)
    with django_capture_on_commit_callbacks(execute=False):  # the task's message is lost
        services.round_draw_start(round=round, actor=staff_1)
    assert reload(round).status == RoundStatus.DRAWING and reload(apps[0]).rank is None

    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    assert reload(round).status == RoundStatus.DRAWN and round.draw_task_id
    ranks = {a.pk: reload(a).rank for a in apps}
    assert sorted(ranks.values()) == [1, 2, 3, 4]
    notices = Notification.objects.filter(kind="housing_ranked").count()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.round_draw_start(round=round, actor=staff_1)
    assert callbacks == []
    assert {a.pk: reload(a).rank for a in apps} == ranks
    assert Notification.objects.filter(kind="housing_ranked").count() == notices == 4


def test_staff_set_a_unit_to_maintenance_and_back_but_never_to_let(project, staff_1, staff_2):
    unit = project.units.first()
    services.unit_set_state(unit=unit, actor=staff_1, state=UnitState.MAINTENANCE)
    assert reload(unit).state == UnitState.MAINTENANCE
    assert AuditEntry.objects.filter(object_id=str(unit.pk), to_status=UnitState.MAINTENANCE).exists()
    with pytest.raises(ValidationError):
        services.unit_set_state(unit=unit, actor=staff_1, state=UnitState.LET)
    with pytest.raises(PermissionDenied):
        services.unit_set_state(unit=unit, actor=staff_2, state=UnitState.VACANT)
    Unit.objects.filter(pk=unit.pk).update(state=UnitState.OFFERED)
    with pytest.raises(ValidationError) as refused:
        services.unit_set_state(unit=unit, actor=staff_1, state=UnitState.MAINTENANCE)
    assert "Offered" in refused.value.messages[0]
