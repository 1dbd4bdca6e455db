"""Every write of the events programme: events from draft to publication, registrations
that never oversell the places, a waiting list that promotes itself, check-in by code,
reminders and announcements."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from events import constants as c
from events import rules
from events.constants import EMPLOYER_KINDS, OPEN_STATES, SEAT_STATES, EventStatus, RegistrationStatus
from events.models import Event, Registration, Subscription
from portal import services as portal_services
from portal import workflow
from portal.models import AuditEntry, User
from portal.permissions import can_review_district, is_member
from portal.selectors import parameter_value

E = EventStatus
R = RegistrationStatus

EVENT_FIELDS = (
    "kind",
    "title",
    "description",
    "district",
    "venue",
    "place",
    "starts_at",
    "ends_at",
    "capacity",
    "registration_opens",
    "registration_closes",
    "min_age",
    "max_age",
    "graduates_only",
    "requires_approval",
    "questions",
    "volunteer_hours",
)


# --- who may do what ------------------------------------------------------------------------


def is_event_staff(actor: User, event: Event) -> bool:
    return actor.is_portal_staff and can_review_district(actor, event.district_id)


def is_organiser(actor: User, event: Event) -> bool:
    """District staff, city staff, or a member of the organising employer."""
    return is_event_staff(actor, event) or (event.organiser_id is not None and is_member(actor, event.organiser))


def _registration_organiser(actor: User, registration: Registration) -> bool:
    return is_organiser(actor, registration.event)


def _registration_owner(actor: User, registration: Registration) -> bool:
    return actor.pk == registration.user_id


def _owner_or_organiser(actor: User, registration: Registration) -> bool:
    return _registration_owner(actor, registration) or _registration_organiser(actor, registration)


# --- notifications produced by transitions ----------------------------------------------------


def _context(event: Event, **extra: Any) -> dict[str, Any]:
    return {
        "event": event.title,
        "event_id": event.pk,
        "when": timezone.localtime(event.starts_at).strftime("%Y-%m-%d %H:%M"),
        "where": event.where,
        "link": reverse("events:event", args=[event.pk]),
        **extra,
    }


def _notify_participant(kind: str):
    def produce(registration: Registration, entry: AuditEntry):
        yield (
            registration.user,
            kind,
            _context(
                registration.event,
                code=registration.check_in_code,
                registration_id=registration.pk,
                reason=entry.reason or "-",
                until=timezone.localtime(registration.offer_expires_at).strftime("%Y-%m-%d %H:%M")
                if registration.offer_expires_at
                else "",
            ),
        )

    return produce


def _notify_cancelled(registration: Registration, entry: AuditEntry):
    # When the whole event is cancelled, event_cancel tells everyone once ("event_cancelled").
    if registration.event.status != E.CANCELLED:
        yield from _notify_participant("registration_cancelled")(registration, entry)


def _notify_event_members(kind: str):
    def produce(event: Event, entry: AuditEntry):
        if event.organiser_id:
            for membership in event.organiser.memberships.select_related("user"):
                yield membership.user, kind, _context(event, reason=entry.reason or "-")

    return produce


def _set_reason(obj, actor, reason):
    obj.status_reason = reason
    return ["status_reason"]


def _set_offer(registration: Registration, actor, reason):
    # float, not int: a parameter of 1.5 hours must not become 1 (or 0.5 become 0).
    hours = float(parameter_value(key=c.OFFER_HOURS, district_id=registration.event.district_id, default=12))
    registration.offer_expires_at = timezone.now() + dt.timedelta(hours=hours)
    return ["offer_expires_at"]


def _clear_offer(registration: Registration, actor, reason):
    registration.offer_expires_at = None
    registration.status_reason = reason
    return ["offer_expires_at", "status_reason"]


def _attend(registration: Registration, actor, reason):
    registration.checked_in_at = timezone.now()
    hours = registration.event.volunteer_hours
    if hours:
        portal_services.profile_add_volunteer_hours(user=registration.user, hours=hours)
    return ["checked_in_at"]


workflow.register(
    workflow.Workflow(
        model_label="events.Event",
        transitions=[
            workflow.Transition(
                E.DRAFT, E.PENDING, allowed=lambda a, e: e.organiser_id is not None and is_member(a, e.organiser)
            ),
            workflow.Transition(
                E.REJECTED, E.PENDING, allowed=lambda a, e: e.organiser_id is not None and is_member(a, e.organiser)
            ),
            workflow.Transition(E.DRAFT, E.PUBLISHED, allowed=is_event_staff),
            workflow.Transition(
                E.PENDING, E.PUBLISHED, allowed=is_event_staff, notify=_notify_event_members("event_published")
            ),
            workflow.Transition(
                E.PENDING,
                E.REJECTED,
                allowed=is_event_staff,
                requires_reason=True,
                apply=_set_reason,
                notify=_notify_event_members("event_rejected"),
            ),
            workflow.Transition(
                E.PUBLISHED, E.CANCELLED, allowed=is_organiser, requires_reason=True, apply=_set_reason
            ),
        ],
    )
)

workflow.register(
    workflow.Workflow(
        model_label="events.Registration",
        transitions=[
            workflow.Transition(
                R.PENDING,
                R.CONFIRMED,
                allowed=_registration_organiser,
                notify=_notify_participant("registration_confirmed"),
            ),
            workflow.Transition(
                R.PENDING,
                R.WAITLISTED,
                allowed=_registration_organiser,
                notify=_notify_participant("registration_waitlisted"),
            ),
            workflow.Transition(
                R.PENDING, R.CANCELLED, allowed=_owner_or_organiser, apply=_set_reason, notify=_notify_cancelled
            ),
            workflow.Transition(
                R.WAITLISTED,
                R.OFFERED,
                allowed=_registration_organiser,
                apply=_set_offer,
                notify=_notify_participant("registration_offered"),
            ),
            workflow.Transition(R.WAITLISTED, R.CANCELLED, allowed=_owner_or_organiser, apply=_set_reason),
            workflow.Transition(
                R.OFFERED,
                R.CONFIRMED,
                allowed=_registration_owner,
                apply=_clear_offer,
                notify=_notify_participant("registration_confirmed"),
            ),
            workflow.Transition(R.OFFERED, R.CANCELLED, allowed=_owner_or_organiser, apply=_clear_offer),
            workflow.Transition(
                R.CONFIRMED, R.CANCELLED, allowed=_owner_or_organiser, apply=_set_reason, notify=_notify_cancelled
            ),
            workflow.Transition(R.CONFIRMED, R.ATTENDED, allowed=_registration_organiser, apply=_attend),
            workflow.Transition(R.CONFIRMED, R.NO_SHOW, allowed=_registration_organiser),
        ],
    )
)


# --- events ------------------------------------------------------------------------------------


def event_validate(event: Event) -> None:
    """Check an event's fields together (dates, window, ages, venue, questions)."""
    errors: dict[str, list[str]] = {}
    if event.starts_at and event.ends_at and event.ends_at <= event.starts_at:
        errors.setdefault("ends_at", []).append(_("The event must end after it starts."))
    if event.registration_opens and event.registration_closes and event.registration_closes <= event.registration_opens:
        errors.setdefault("registration_closes", []).append(_("Registration must close after it opens."))
    if event.registration_closes and event.ends_at and event.registration_closes > event.ends_at:
        errors.setdefault("registration_closes", []).append(_("Registration must close before the event ends."))
    if event.min_age is not None and event.max_age is not None and event.max_age < event.min_age:
        errors.setdefault("max_age", []).append(_("The maximum age is below the minimum age."))
    if event.venue_id and event.district_id and event.venue.district_id != event.district_id:
        errors.setdefault("venue", []).append(_("The venue is in another district."))
    if event.venue_id and event.capacity and event.capacity > event.venue.capacity:
        errors.setdefault("capacity", []).append(
            _("The venue holds %(n)d people at most.") % {"n": event.venue.capacity}
        )
    if not event.venue_id and not (event.place or "").strip():
        errors.setdefault("place", []).append(_("Choose a venue or give the place."))
    errors.update(_question_errors(event.questions))
    if errors:
        raise ValidationError(errors)


def _question_errors(questions: Any) -> dict[str, list[str]]:
    if not isinstance(questions, list) or len(questions) > 10:
        return {"questions": [_("Give at most 10 questions as a list.")]}
    for q in questions:
        if (
            not isinstance(q, dict)
            or not str(q.get("label", "")).strip()
            or q.get("type") not in ("text", "number", "choice")
        ):
            return {"questions": [_("Each question needs a label and a type: text, number or choice.")]}
        if q["type"] == "choice" and not (isinstance(q.get("choices"), list) and q["choices"]):
            return {"questions": [_("A choice question needs its choices.")]}
    return {}


def event_create(*, actor: User, data: dict[str, Any], organiser=None) -> Event:
    """District or city staff create events of their districts; a verified employer's
    members create recruitment fairs and salons, which staff review before publishing."""
    event = Event(created_by=actor, organiser=organiser, status=E.DRAFT)
    for name in EVENT_FIELDS:
        if name in data:
            setattr(event, name, data[name])
    if organiser is not None:
        if not is_member(actor, organiser):
            raise PermissionDenied(_("You are not a member of this organisation."))
        if not organiser.is_verified:
            raise ValidationError(_("Only verified organisations can organise events."))
        _check_employer_kind(event)
    elif not (actor.is_portal_staff and can_review_district(actor, event.district_id)):
        raise PermissionDenied(_("You may not organise events in this district."))
    event_validate(event)
    event.save()
    return event


def _check_employer_kind(event: Event) -> None:
    if event.kind not in EMPLOYER_KINDS:
        raise ValidationError(
            {"kind": [_("Employers organise recruitment fairs and salons; other events are run by the districts.")]}
        )


def event_update(*, event: Event, actor: User, data: dict[str, Any]) -> Event:
    """Change an event. Employers change only drafts and rejected events (staff reviewed the
    rest); staff may correct published ones."""
    if not is_organiser(actor, event):
        raise PermissionDenied(_("You may not change this event."))
    if not is_event_staff(actor, event) and event.status not in (E.DRAFT, E.REJECTED):
        raise ValidationError(_("A reviewed event cannot be changed by its organiser; ask the district staff."))
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        taken = locked.registrations.filter(status__in=SEAT_STATES).count()
        for name in EVENT_FIELDS:
            if name in data:
                setattr(locked, name, data[name])
        if not is_organiser(actor, locked):  # e.g. moved to a district the actor does not serve
            raise PermissionDenied(_("You may not change this event."))
        if locked.organiser_id is not None:
            _check_employer_kind(locked)
        event_validate(locked)
        if locked.capacity < taken:
            raise ValidationError({"capacity": [_("%(n)d places are already taken.") % {"n": taken}]})
        locked.save()
        if locked.status == E.PUBLISHED and locked.starts_at > timezone.now():
            _offer_free_places(locked)  # more places: the waiting list moves up
    return locked


COVER_SIZE = (1200, 800)
THUMBNAIL_SIZE = (480, 320)


def event_set_cover(*, event: Event, actor: User, upload) -> Event:
    """Store the event's cover picture: checked by content, re-encoded without EXIF, in two
    sizes (the page and the list's thumbnail)."""
    from django.conf import settings
    from django.core.files.base import ContentFile

    from portal.services.documents import image_reencode, sniff_content_type

    if not is_organiser(actor, event):
        raise PermissionDenied(_("You may not change this event."))
    data = upload.read(settings.DOCUMENT_MAX_BYTES + 1)
    if len(data) > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            {"cover": [_("The picture is larger than %(mb)d MB.") % {"mb": settings.DOCUMENT_MAX_BYTES // 2**20}]}
        )
    content_type = sniff_content_type(data[:16])
    if content_type not in ("image/jpeg", "image/png"):
        raise ValidationError({"cover": [_("The cover must be a JPEG or PNG picture.")]})
    extension = "jpg" if content_type == "image/jpeg" else "png"
    cover = image_reencode(data, content_type, max_size=COVER_SIZE)
    thumbnail = image_reencode(cover, content_type, max_size=THUMBNAIL_SIZE)
    old = [f for f in (event.cover, event.cover_thumbnail) if f]
    event.cover.save(f"event-{event.pk}.{extension}", ContentFile(cover), save=False)
    event.cover_thumbnail.save(f"event-{event.pk}-thumb.{extension}", ContentFile(thumbnail), save=False)
    Event.objects.filter(pk=event.pk).update(cover=event.cover.name, cover_thumbnail=event.cover_thumbnail.name)
    for f in old:
        storage, name = f.storage, f.name
        if name not in (event.cover.name, event.cover_thumbnail.name):
            transaction.on_commit(lambda s=storage, n=name: s.delete(n))
    return event


def event_submit(*, event: Event, actor: User) -> AuditEntry:
    return portal_services.transition(obj=event, to=E.PENDING, actor=actor)


def event_publish(*, event: Event, actor: User) -> AuditEntry:
    return portal_services.transition(obj=event, to=E.PUBLISHED, actor=actor)


def event_reject(*, event: Event, actor: User, reason: str) -> AuditEntry:
    return portal_services.transition(obj=event, to=E.REJECTED, actor=actor, reason=reason)


def event_cancel(*, event: Event, actor: User, reason: str) -> AuditEntry:
    """Cancel a published event: every open registration is cancelled and told why."""
    with transaction.atomic():
        entry = portal_services.transition(obj=event, to=E.CANCELLED, actor=actor, reason=reason)
        for registration in Registration.objects.filter(event=event, status__in=OPEN_STATES).select_related("user"):
            portal_services.transition(obj=registration, to=R.CANCELLED, actor=None, reason=reason)
            portal_services.notify(
                user=registration.user, kind="event_cancelled", context=_context(event, reason=reason)
            )
    return entry


# --- registrations -----------------------------------------------------------------------------


def participant_facts(*, user: User, event: Event) -> rules.ParticipantFacts:
    profile = getattr(user, "profile", None)
    return rules.ParticipantFacts(
        birth_date=profile.birth_date if profile else None,
        is_graduate=bool(profile and profile.education_level and profile.graduation_date),
        has_open_registration=Registration.objects.filter(event=event, user=user, status__in=OPEN_STATES).exists(),
    )


def event_terms(event: Event) -> rules.EventTerms:
    return rules.EventTerms(
        published=event.status == E.PUBLISHED,
        # Local time: the messages name these moments to people in Luoyang.
        registration_opens=timezone.localtime(event.registration_opens),
        registration_closes=timezone.localtime(event.registration_closes),
        starts_on=timezone.localtime(event.starts_at).date(),
        min_age=event.min_age,
        max_age=event.max_age,
        graduates_only=event.graduates_only,
    )


def registration_eligibility(*, user: User, event: Event, now: dt.datetime | None = None):
    return rules.can_register(
        facts=participant_facts(user=user, event=event), terms=event_terms(event), now=now or timezone.now()
    )


def _clean_answers(event: Event, answers: dict[str, Any]) -> dict[str, Any]:
    cleaned, errors = {}, []
    for index, question in enumerate(event.questions or []):
        key = str(index)
        value = str((answers or {}).get(key, "")).strip()
        label = question.get("label", key)
        if not value:
            if question.get("required"):
                errors.append(_("Please answer: %(q)s") % {"q": label})
            continue
        if question.get("type") == "number":
            try:
                value = str(int(value))
            except ValueError:
                errors.append(_("Please answer with a number: %(q)s") % {"q": label})
                continue
        if question.get("type") == "choice" and value not in [str(ch) for ch in question.get("choices", [])]:
            errors.append(_("Please choose one of the answers: %(q)s") % {"q": label})
            continue
        cleaned[key] = value[:500]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _free_places(event: Event) -> int:
    return event.capacity - Registration.objects.filter(event=event, status__in=SEAT_STATES).count()


def registration_create(
    *, event: Event, user: User, answers: dict[str, Any] | None = None, now: dt.datetime | None = None
) -> Registration:
    """Register for an event. The event row is locked, so however many people register at
    once, at most ``capacity`` are confirmed and the rest join the waiting list in the
    order they arrived. Events that need approval hold the registration for staff."""
    now = now or timezone.now()
    # Everyone registering for the event waits on its row lock (bench/bench_peak.py: at an
    # opening the lock is where the time goes), so the lock covers only the reads and the
    # write that decide the place. The person's side of the rule is read before it: a second
    # registration of the same person that slips past it is refused by the database.
    facts = participant_facts(user=user, event=event)
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        result = rules.can_register(facts=facts, terms=event_terms(locked), now=now)
        if not result.eligible:
            raise ValidationError([ValidationError(str(c.message), code=c.code) for c in result.failures])
        cleaned = _clean_answers(locked, answers or {})
        queue = Registration.objects.filter(event=locked).aggregate(
            last=Max("sequence"), waiting=Count("id", filter=Q(status=R.WAITLISTED))
        )
        sequence = (queue["last"] or 0) + 1
        if locked.requires_approval:
            status = R.PENDING
        elif _free_places(locked) > 0 and not queue["waiting"]:
            status = R.CONFIRMED
        else:
            status = R.WAITLISTED
        try:
            # No savepoint: a refusal here ends the whole transaction anyway.
            registration = Registration.objects.create(
                event=locked, user=user, status=status, sequence=sequence, answers=cleaned
            )
        except IntegrityError:
            raise ValidationError(_("You are already registered for this event."), code="once") from None
    # Told after the lock is released (the registration is committed by now, unless the
    # caller holds a transaction of its own, which then covers both).
    kind = {
        R.CONFIRMED: "registration_confirmed",
        R.WAITLISTED: "registration_waitlisted",
        R.PENDING: "registration_pending",
    }[status]
    portal_services.notify(
        user=user,
        kind=kind,
        context=_context(
            locked, code=registration.check_in_code, registration_id=registration.pk, reason="-", until=""
        ),
    )
    return registration


def _offer_free_places(event: Event) -> int:
    """Offer each free place to the first on the waiting list (the event row is locked by
    the caller). Returns the number of offers made."""
    offered = 0
    free = _free_places(event)
    for registration in Registration.objects.filter(event=event, status=R.WAITLISTED).order_by("sequence")[
        : max(free, 0)
    ]:
        portal_services.transition(obj=registration, to=R.OFFERED, actor=None)
        offered += 1
    return offered


def registration_cancel(*, registration: Registration, actor: User, reason: str = "") -> AuditEntry:
    """Cancel a registration or leave the waiting list; a freed place goes to the next in
    line at once, with a deadline to confirm."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        entry = portal_services.transition(obj=registration, to=R.CANCELLED, actor=actor, reason=reason)
        if event.status == E.PUBLISHED and event.starts_at > timezone.now():
            _offer_free_places(event)
    return entry


def registration_accept_offer(*, registration: Registration, actor: User) -> AuditEntry:
    with transaction.atomic():
        Event.objects.select_for_update().get(pk=registration.event_id)
        registration.refresh_from_db()
        if (
            registration.status == R.OFFERED
            and registration.offer_expires_at
            and registration.offer_expires_at <= timezone.now()
        ):
            raise ValidationError(_("The offer has expired; the place went to the next person."))
        return portal_services.transition(obj=registration, to=R.CONFIRMED, actor=actor)


def registration_approve(*, registration: Registration, actor: User) -> AuditEntry:
    """Staff approve a pending registration: confirmed if a place is free, else waitlisted."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        free = _free_places(event) > 0 and not Registration.objects.filter(event=event, status=R.WAITLISTED).exists()
        return portal_services.transition(obj=registration, to=R.CONFIRMED if free else R.WAITLISTED, actor=actor)


def registration_reject(*, registration: Registration, actor: User, reason: str) -> AuditEntry:
    if not (reason or "").strip():
        raise ValidationError(_("Please give a reason for this decision."))
    return portal_services.transition(obj=registration, to=R.CANCELLED, actor=actor, reason=reason)


# Doors open before the start; after the end, whoever did not come is a no-show (beat).
CHECK_IN_OPENS_BEFORE = dt.timedelta(hours=2)


def check_in_window(event: Event) -> tuple[dt.datetime, dt.datetime]:
    """From two hours before the start to the end: checking a ticket in credits volunteer
    hours and counts attendance, which must not happen days before the event."""
    return event.starts_at - CHECK_IN_OPENS_BEFORE, event.ends_at


def registration_check_in(*, event: Event, code: str, actor: User) -> Registration:
    """Check a participant in by the code on their ticket (scanned or typed), during the
    check-in window."""
    if not is_organiser(actor, event):
        raise PermissionDenied(_("You may not check people in at this event."))
    code = "".join((code or "").split()).upper()
    registration = Registration.objects.select_related("event", "user").filter(check_in_code=code).first()
    if registration is None:
        raise ValidationError(
            _("No ticket has the code %(code)s. Check the letters and try again.") % {"code": code}, code="unknown"
        )
    if registration.event_id != event.pk:
        raise ValidationError(_("This ticket is for another event."), code="other_event")
    opens, closes = check_in_window(event)
    now = timezone.now()
    if now < opens:
        raise ValidationError(
            _("Check-in opens at %(when)s, two hours before the start.")
            % {"when": timezone.localtime(opens).strftime("%Y-%m-%d %H:%M")},
            code="too_early",
        )
    if now > closes:
        raise ValidationError(
            _("The event ended at %(when)s; check-in is closed.")
            % {"when": timezone.localtime(closes).strftime("%Y-%m-%d %H:%M")},
            code="ended",
        )
    if registration.status == R.ATTENDED:
        when = timezone.localtime(registration.checked_in_at).strftime("%H:%M") if registration.checked_in_at else ""
        raise ValidationError(_("Already checked in at %(when)s.") % {"when": when}, code="twice")
    if registration.status != R.CONFIRMED:
        raise ValidationError(
            _("This ticket is not confirmed (%(status)s).") % {"status": registration.get_status_display()},
            code="not_confirmed",
        )
    portal_services.transition(obj=registration, to=R.ATTENDED, actor=actor)
    registration.refresh_from_db()
    return registration


# --- scheduled work (celery beat) ----------------------------------------------------------------


def offers_expire(*, now: dt.datetime | None = None) -> int:
    """Offers not confirmed in time are withdrawn and passed to the next in line."""
    now = now or timezone.now()
    count = 0
    for pk, event_id in Registration.objects.filter(status=R.OFFERED, offer_expires_at__lt=now).values_list(
        "pk", "event_id"
    ):
        with transaction.atomic():
            event = Event.objects.select_for_update().get(pk=event_id)
            registration = Registration.objects.get(pk=pk)
            if registration.status != R.OFFERED:
                continue
            portal_services.transition(
                obj=registration, to=R.CANCELLED, actor=None, reason=_("The offer was not confirmed in time")
            )
            if event.status == E.PUBLISHED and event.starts_at > now:
                _offer_free_places(event)
            count += 1
    return count


def events_mark_no_shows(*, now: dt.datetime | None = None) -> int:
    """After an event ends, confirmed registrations that never checked in become no-shows."""
    now = now or timezone.now()
    count = 0
    for event in Event.objects.filter(status=E.PUBLISHED, ends_at__lt=now, no_shows_marked_at__isnull=True):
        with transaction.atomic():
            for registration in Registration.objects.filter(event=event, status=R.CONFIRMED):
                portal_services.transition(obj=registration, to=R.NO_SHOW, actor=None)
                count += 1
            for registration in Registration.objects.filter(
                event=event, status__in=[R.OFFERED, R.WAITLISTED, R.PENDING]
            ):
                portal_services.transition(
                    obj=registration, to=R.CANCELLED, actor=None, reason=_("The event has ended")
                )
            Event.objects.filter(pk=event.pk).update(no_shows_marked_at=now)
    return count


def events_send_reminders(*, now: dt.datetime | None = None) -> int:
    """A reminder to confirmed participants about a day before the event."""
    now = now or timezone.now()
    hours = float(parameter_value(key=c.REMINDER_HOURS, default=24))
    due = Registration.objects.filter(
        status=R.CONFIRMED,
        reminded_at__isnull=True,
        event__status=E.PUBLISHED,
        event__starts_at__gt=now,
        event__starts_at__lte=now + dt.timedelta(hours=hours),
    ).select_related("event", "user")
    count = 0
    for registration in due:
        with transaction.atomic():
            if Registration.objects.filter(pk=registration.pk, reminded_at__isnull=True).update(reminded_at=now):
                portal_services.notify(
                    user=registration.user,
                    kind="event_reminder",
                    context=_context(
                        registration.event, code=registration.check_in_code, registration_id=registration.pk
                    ),
                )
                count += 1
    return count


# --- subscriptions and announcements -------------------------------------------------------------


def subscription_set(*, user: User, district=None, kind: str = "") -> Subscription:
    sub, _created = Subscription.objects.get_or_create(user=user, district=district, kind=kind or "")
    return sub


def subscription_delete(*, subscription: Subscription, actor: User) -> None:
    if subscription.user_id != actor.pk:
        raise PermissionDenied
    subscription.delete()


def event_announce(*, event: Event, actor: User) -> int:
    """Tell everyone who follows the event's district or kind, in batches (Celery)."""
    with transaction.atomic():
        # Two clicks at once: the second waits here and then sees the first announcement.
        event = Event.objects.select_for_update().get(pk=event.pk)
        if not is_organiser(actor, event):
            raise PermissionDenied(_("You may not announce this event."))
        if event.status != E.PUBLISHED or event.registration_closes <= timezone.now():
            raise ValidationError(_("Only published events still open for registration can be announced."))
        earlier = AuditEntry.objects.filter(
            content_type__app_label="events", content_type__model="event", object_id=str(event.pk), reason="announce"
        ).first()
        if earlier is not None:
            raise ValidationError(
                _("This event was already announced on %(when)s.")
                % {"when": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d %H:%M")}
            )
        user_ids = list(
            Subscription.objects.filter(Q(district=event.district_id) | Q(kind=event.kind))
            .filter(Q(district__isnull=True) | Q(district=event.district_id))
            .filter(Q(kind="") | Q(kind=event.kind))
            .values_list("user_id", flat=True)
            .distinct()
        )
        portal_services.audit_record(
            actor=actor, action="decision", target=event, reason="announce", detail={"recipients": len(user_ids)}
        )
        return portal_services.notify_many(
            user_ids=user_ids,
            kind="event_announcement",
            context=_context(event),
            link=reverse("events:event", args=[event.pk]),
        )
