"""Every write of the youth-station programme: bookings that never overbook a night,
cancellations that free beds at once, check-in and check-out by district staff, no-shows,
job suggestions to residents and follow-up visits."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apartments import constants as c
from apartments import rules, selectors
from apartments.constants import ACTIVE_STAY_STATES, FOLLOW_UP_DAYS, FollowUpOutcome, StayStatus
from apartments.models import BedAlert, FollowUp, Station, StationClosure, StationNight, Stay
from portal import services as portal_services
from portal import workflow
from portal.constants import EDUCATION_RANK, DocumentKind
from portal.models import AuditEntry, Document, Notification, User
from portal.permissions import can_review_district, register_document_reader, register_id_number_reader
from portal.selectors import parameter_value

S = StayStatus


def _nights(check_in: dt.date, count: int) -> list[dt.date]:
    return [check_in + dt.timedelta(days=i) for i in range(count)]


# --- beds per night ---------------------------------------------------------------------------


def _lock_nights(station: Station, dates: list[dt.date]) -> list[StationNight]:
    """Lock the station's night rows for ``dates`` in date order (creating missing rows
    first). Every booking locks in the same order, so overlapping stays never deadlock."""
    beds = _current_beds(station)
    StationNight.objects.bulk_create(
        [StationNight(station=station, date=d, capacity=beds) for d in dates], ignore_conflicts=True
    )
    return list(StationNight.objects.select_for_update().filter(station=station, date__in=dates).order_by("date"))


def _current_beds(station: Station) -> int:
    # Read afresh: staff may have changed the beds since ``station`` was loaded.
    return Station.objects.values_list("beds", flat=True).get(pk=station.pk)


def _take_nights(station: Station, dates: list[dt.date]) -> None:
    rows = _lock_nights(station, dates)
    beds = _current_beds(station)
    closed = set(StationClosure.objects.filter(station=station, date__in=dates).values_list("date", flat=True))
    for row in rows:
        if row.date in closed:
            raise ValidationError(
                _("The station is closed on the night of %(date)s.") % {"date": row.date.isoformat()}, code="closed"
            )
        if row.booked >= min(row.capacity, beds):
            raise ValidationError(
                _("No bed is free on the night of %(date)s. Choose other dates, or ask to be told when a bed frees.")
                % {"date": row.date.isoformat()},
                code="full",
            )
    # The check constraint (booked <= capacity) backs this up at the database.
    StationNight.objects.filter(pk__in=[r.pk for r in rows]).update(booked=F("booked") + 1)


def _release_nights(stay: Stay, dates: list[dt.date]) -> None:
    if not dates:
        return
    rows = _lock_nights(stay.station, dates)
    StationNight.objects.filter(pk__in=[r.pk for r in rows], booked__gt=0).update(booked=F("booked") - 1)
    station_id = stay.station_id
    transaction.on_commit(lambda: _alerts_after_release(station_id, dates))


def _alerts_after_release(station_id: int, dates: list[dt.date]) -> None:
    from apartments.tasks import bed_alerts_notify as task

    task.delay(station_id, [d.isoformat() for d in dates])


# --- workflow ---------------------------------------------------------------------------------


def _stay_staff(actor: User, stay: Stay) -> bool:
    return actor.is_portal_staff and can_review_district(actor, stay.station.district_id)


def _stay_owner(actor: User, stay: Stay) -> bool:
    return actor.pk == stay.applicant_id


def _owner_or_staff(actor: User, stay: Stay) -> bool:
    return _stay_owner(actor, stay) or _stay_staff(actor, stay)


def _apply_cancel(stay: Stay, actor, reason):
    today = timezone.localdate()
    if actor is not None and actor.pk == stay.applicant_id and stay.check_in < today:
        # A missed arrival is a no-show (its rules apply), not a late cancellation.
        raise ValidationError(_("The check-in day has passed: the booking can no longer be cancelled."))
    remaining = [d for d in _nights(stay.check_in, stay.nights) if d >= today]
    _release_nights(stay, remaining)
    stay.nights_released = stay.nights
    stay.status_reason = reason
    return ["nights_released", "status_reason"]


def _apply_check_in(stay: Stay, actor, reason):
    today = timezone.localdate()
    if not (stay.check_in <= today < stay.check_out):
        raise ValidationError(
            _("Check-in is possible from %(start)s to the last night %(end)s.")
            % {"start": stay.check_in.isoformat(), "end": (stay.check_out - dt.timedelta(days=1)).isoformat()}
        )
    stay.checked_in_at = timezone.now()
    return ["checked_in_at"]


def _apply_check_out(stay: Stay, actor, reason):
    today = timezone.localdate()
    # Leaving early frees the remaining nights and gives them back to the graduate's allowance.
    remaining = [d for d in _nights(stay.check_in, stay.nights) if d >= today and d > stay.check_in]
    _release_nights(stay, remaining)
    stay.nights_released = len(remaining)
    stay.checked_out_at = timezone.now()
    for stage, days in FOLLOW_UP_DAYS.items():
        FollowUp.objects.get_or_create(stay=stay, stage=stage, defaults={"due_on": today + dt.timedelta(days=days)})
    return ["nights_released", "checked_out_at"]


def _apply_no_show(stay: Stay, actor, reason):
    today = timezone.localdate()
    if actor is not None and today < stay.check_in:
        raise ValidationError(_("A guest can be marked as not arrived only from the check-in day on."))
    remaining = [d for d in _nights(stay.check_in, stay.nights) if d >= today]
    _release_nights(stay, remaining)
    forfeit = int(parameter_value(key=c.NO_SHOW_FORFEIT, on=stay.check_in, default=1))
    # Forfeited nights keep counting against the 15; otherwise all of them come back.
    stay.nights_released = len(remaining) if forfeit else stay.nights
    return ["nights_released"]


def _notify_applicant(kind: str):
    def produce(stay: Stay, entry: AuditEntry):
        yield (
            stay.applicant,
            kind,
            {
                "station": stay.station.name,
                "check_in": stay.check_in.isoformat(),
                "nights": stay.nights,
                "reason": entry.reason or "-",
                "link": reverse("apartments:my_stays"),
            },
        )

    return produce


workflow.register(
    workflow.Workflow(
        model_label="apartments.Stay",
        transitions=[
            workflow.Transition(
                S.BOOKED,
                S.CANCELLED,
                allowed=_owner_or_staff,
                apply=_apply_cancel,
                notify=_notify_applicant("stay_cancelled"),
            ),
            workflow.Transition(S.BOOKED, S.CHECKED_IN, allowed=_stay_staff, apply=_apply_check_in),
            workflow.Transition(
                S.CHECKED_IN,
                S.CHECKED_OUT,
                allowed=_stay_staff,
                apply=_apply_check_out,
                notify=_notify_applicant("stay_checked_out"),
            ),
            workflow.Transition(
                S.BOOKED, S.NO_SHOW, allowed=_stay_staff, apply=_apply_no_show, notify=_notify_applicant("stay_no_show")
            ),
        ],
    )
)


# --- booking ----------------------------------------------------------------------------------


def stay_eligibility(
    *,
    user: User,
    station: Station,
    check_in: dt.date,
    nights: int,
    invitation_document: Document | None = None,
    now: dt.datetime | None = None,
):
    now = timezone.localtime(now or timezone.now())
    facts = selectors.station_facts(
        user=user, check_in=check_in, nights=nights, today=now.date(), invitation_document=invitation_document
    )
    params = selectors.station_params(on=now.date(), district_id=station.district_id)
    return rules.station_eligibility(facts=facts, params=params, check_in=check_in, nights=nights, now=now)


def stay_book(
    *,
    applicant: User,
    station: Station,
    check_in: dt.date,
    nights: int,
    invitation_document: Document | None = None,
    now: dt.datetime | None = None,
) -> Stay:
    """Book ``nights`` free nights from ``check_in``. The graduate's row is locked so the
    15-night cap and the one-active-stay rule hold under concurrent requests; the nights are
    locked in date order and never filled beyond the beds."""
    if nights < 1:
        raise ValidationError(_("Book at least one night."))
    if not station.active:
        raise ValidationError(_("This station is not taking bookings."))
    if invitation_document is not None and (
        invitation_document.owner_id != applicant.pk or invitation_document.kind != DocumentKind.INVITATION_LETTER
    ):
        raise ValidationError(_("Choose one of your own uploaded invitation or offer letters."))
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=applicant.pk).first()
            result = stay_eligibility(
                user=applicant,
                station=station,
                check_in=check_in,
                nights=nights,
                invitation_document=invitation_document,
                now=now,
            )
            if not result.eligible:
                # One error per failed criterion, coded as the rule codes it (hukou, nights, ...).
                raise ValidationError([ValidationError(str(c.message), code=c.code) for c in result.failures])
            _take_nights(station, _nights(check_in, nights))
            interview = selectors.interviews_for_stay(user=applicant, check_in=check_in, nights=nights).first()
            stay = Stay.objects.create(
                applicant=applicant,
                station=station,
                check_in=check_in,
                nights=nights,
                interview=interview,
                invitation_document=invitation_document,
                eligibility=result.as_dict(),
            )
            portal_services.notify(
                user=applicant,
                kind="stay_booked",
                context={
                    "station": station.name,
                    "address": station.address,
                    "check_in": check_in.isoformat(),
                    "nights": nights,
                    "link": reverse("apartments:my_stays"),
                },
            )
    except IntegrityError as exc:  # the one-active-stay constraint or the night constraint
        raise ValidationError(
            _("The booking could not be made: you already have a stay, or the beds just went. Please try again."),
            code="conflict",
        ) from exc
    return stay


def stay_cancel(*, stay: Stay, actor: User, reason: str = "") -> AuditEntry:
    """Cancel a booking; its nights are free for others at once."""
    return portal_services.transition(obj=stay, to=S.CANCELLED, actor=actor, reason=reason)


def stay_check_in(*, stay: Stay, actor: User) -> AuditEntry:
    """Staff check the graduate in after seeing the ID card."""
    return portal_services.transition(obj=stay, to=S.CHECKED_IN, actor=actor)


def stay_check_out(*, stay: Stay, actor: User) -> AuditEntry:
    return portal_services.transition(obj=stay, to=S.CHECKED_OUT, actor=actor)


def stays_mark_no_show(*, today: dt.date | None = None) -> int:
    """The morning after a missed check-in (celery beat): the stay becomes a no-show and
    its remaining nights are released."""
    today = today or timezone.localdate()
    count = 0
    for stay in Stay.objects.filter(status=S.BOOKED, check_in__lt=today).select_related("station"):
        try:
            portal_services.transition(obj=stay, to=S.NO_SHOW, actor=None, reason=_("No check-in on the arrival day"))
        except ValidationError:
            continue
        count += 1
    return count


def stay_mark_no_show(*, stay: Stay, actor: User, reason: str = "") -> AuditEntry:
    """Staff record that the guest did not arrive (the morning job does it otherwise)."""
    return portal_services.transition(obj=stay, to=S.NO_SHOW, actor=actor, reason=reason)


def stay_set_job_push(*, stay: Stay, actor: User, enabled: bool) -> Stay:
    if stay.applicant_id != actor.pk:
        raise PermissionDenied
    Stay.objects.filter(pk=stay.pk).update(job_push=enabled)
    stay.job_push = enabled
    return stay


# --- bed alerts --------------------------------------------------------------------------------


def bed_alert_subscribe(*, user: User, station: Station, start: dt.date, end: dt.date) -> BedAlert:
    today = timezone.localdate()
    if end < start:
        raise ValidationError(_("The last night must not be before the first."))
    if start < today:
        raise ValidationError(_("Choose nights from today on."))
    if (end - start).days > 30:
        raise ValidationError(_("Choose at most 30 nights."))
    return BedAlert.objects.create(user=user, station=station, start=start, end=end)


def bed_alerts_notify(*, station_id: int, dates: Iterable[dt.date]) -> int:
    """A bed freed on each of ``dates`` (a date listed twice: two beds): tell waiting
    subscribers, earliest first, one per freed bed that is still free. Beds announced by
    an earlier release are not announced again to the next in line."""
    freed = Counter(dates)
    dates = sorted(freed)
    if not dates:
        return 0
    station = Station.objects.get(pk=station_id)
    free = {
        n.date: min(n.free, freed[n.date])
        for n in selectors.availability(station=station, start=dates[0], days=(dates[-1] - dates[0]).days + 1)
    }
    told = 0
    with transaction.atomic():
        alerts = (
            BedAlert.objects.select_for_update()
            .filter(station_id=station_id, notified_at__isnull=True, start__lte=dates[-1], end__gte=dates[0])
            .order_by("created_at", "id")
        )
        for alert in alerts:
            nights = [d for d in dates if alert.start <= d <= alert.end and free.get(d, 0) > 0]
            if not nights:
                continue
            for d in nights:
                free[d] -= 1
            alert.notified_at = timezone.now()
            alert.save(update_fields=["notified_at"])
            portal_services.notify(
                user=alert.user,
                kind="bed_freed",
                context={
                    "station": station.name,
                    "dates": ", ".join(d.isoformat() for d in nights),
                    "link": reverse("apartments:station", args=[station.pk]),
                },
            )
            told += 1
    return told


# --- job suggestions to residents ----------------------------------------------------------------


def residents_job_push(*, today: dt.date | None = None, batch_size: int = 500) -> int:
    """Daily (celery beat): each checked-in resident who has not turned it off gets the
    positions published yesterday that match their education and major. Whole calendar
    days, so a position is suggested once, the morning after it was published."""
    from jobs.constants import PositionStatus
    from jobs.models import Position

    today = today or timezone.localdate()
    since = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=1), dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    fresh = list(
        Position.objects.filter(
            status=PositionStatus.PUBLISHED, published_at__gte=since, published_at__lt=until, deadline__gte=today
        )
        .select_related("organisation")
        .order_by("-published_at")[:200]
    )
    if not fresh:
        return 0
    sent = 0
    stays = Stay.objects.filter(status=S.CHECKED_IN, job_push=True).select_related("applicant__profile").order_by("pk")
    last_pk = 0
    while True:
        batch = list(stays.filter(pk__gt=last_pk)[:batch_size])
        if not batch:
            break
        last_pk = batch[-1].pk
        with transaction.atomic():
            already = set(
                Notification.objects.filter(
                    user__in=[s.applicant_id for s in batch], kind="station_jobs", created_at__date=today
                ).values_list("user_id", flat=True)
            )
            for stay in batch:
                if stay.applicant_id in already:  # a re-run (or a redelivered task) sends nothing twice
                    continue
                matches = [p for p in fresh if _position_matches(p, getattr(stay.applicant, "profile", None))][:10]
                if not matches:
                    continue
                portal_services.notify(
                    user=stay.applicant,
                    kind="station_jobs",
                    context={
                        "count": len(matches),
                        "positions": "；".join(f"{p.title}（{p.organisation.name}）" for p in matches),
                        "link": reverse("jobs:search"),
                    },
                )
                sent += 1
    return sent


def _position_matches(position, profile) -> bool:
    if profile is None:
        return False
    required = EDUCATION_RANK.get(position.education_level, 0)
    if required and EDUCATION_RANK.get(profile.education_level, 0) < required:
        return False
    majors = position.major_list
    return not majors or any(m in (profile.major or "") or (profile.major or "—") in m for m in majors)


# --- follow-up -----------------------------------------------------------------------------------


def _hire_after(stay: Stay):
    from jobs.constants import ApplicationStatus
    from jobs.models import JobApplication

    since = stay.checked_out_at or timezone.make_aware(dt.datetime.combine(stay.check_in, dt.time.min))
    return (
        JobApplication.objects.filter(
            applicant_id=stay.applicant_id,
            status=ApplicationStatus.HIRED,
            updated_at__gte=since - dt.timedelta(days=stay.nights + 30),
        )
        .select_related("position__organisation")
        .order_by("-updated_at")
        .first()
    )


def follow_up_answer(*, follow_up: FollowUp, actor: User, outcome: str, employer: str = "", note: str = "") -> FollowUp:
    """The graduate answers the questionnaire, or staff record the outcome of a call."""
    stay = follow_up.stay
    if not (
        actor.pk == stay.applicant_id
        or (actor.is_portal_staff and can_review_district(actor, stay.station.district_id))
    ):
        raise PermissionDenied(_("You may not answer this follow-up."))
    try:
        outcome = FollowUpOutcome(outcome)
    except ValueError:
        raise ValidationError(_("Choose one of the answers.")) from None
    with transaction.atomic():
        row = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if actor.pk == stay.applicant_id and row.outcome:
            # The graduate answers once (early answers are welcome); staff may correct later.
            raise ValidationError(_("This follow-up is not waiting for your answer."))
        row.outcome = outcome
        row.employer = (employer or "").strip()[:120]
        row.note = (note or "").strip()
        row.answered_at = timezone.now()
        row.answered_by = actor
        row.call_task_open = False
        row.save(update_fields=["outcome", "employer", "note", "answered_at", "answered_by", "call_task_open"])
        portal_services.audit_record(
            actor=actor, action="decision", target=stay, reason=f"follow-up {row.stage}: {outcome}"
        )
    return row


def follow_ups_run(*, today: dt.date | None = None) -> dict[str, int]:
    """Daily (celery beat): answer due follow-ups from recorded hires, send the
    questionnaire for the others, and open a staff call task where no answer came."""
    today = today or timezone.localdate()
    counts = defaultdict(int)
    answer_days = int(parameter_value(key=c.FOLLOW_UP_ANSWER_DAYS, on=today, default=5))
    due = FollowUp.objects.filter(outcome="", due_on__lte=today).select_related("stay__station", "stay__applicant")
    for follow_up in due:
        hire = _hire_after(follow_up.stay)
        if hire is not None:
            FollowUp.objects.filter(pk=follow_up.pk, outcome="").update(
                outcome=FollowUpOutcome.WORKING_IN_LUOYANG,
                employer=hire.position.organisation.name[:120],
                note=_("Answered from the hire recorded in the jobs programme."),
                answered_at=timezone.now(),
                call_task_open=False,
            )
            counts["answered_by_hire"] += 1
            continue
        if follow_up.sent_at is None:
            with transaction.atomic():
                if not FollowUp.objects.filter(pk=follow_up.pk, sent_at__isnull=True).update(sent_at=timezone.now()):
                    continue  # another run sent it meanwhile
                portal_services.notify(
                    user=follow_up.stay.applicant,
                    kind="stay_follow_up",
                    context={"station": follow_up.stay.station.name, "link": reverse("apartments:my_stays")},
                )
            counts["sent"] += 1
        elif not follow_up.call_task_open and timezone.localdate(follow_up.sent_at) <= today - dt.timedelta(
            days=answer_days
        ):
            FollowUp.objects.filter(pk=follow_up.pk).update(call_task_open=True)
            counts["call_tasks"] += 1
    return dict(counts)


# --- stations (staff) -------------------------------------------------------------------------


def station_set_beds(*, station: Station, actor: User, beds: int) -> Station:
    """Change the number of beds; future nights take the new capacity, but never below the
    guests already booked on a night."""
    if not (actor.is_portal_staff and can_review_district(actor, station.district_id)):
        raise PermissionDenied
    if beds < 1:
        raise ValidationError(_("A station has at least one bed."))
    today = timezone.localdate()
    try:
        with transaction.atomic():
            # Lock every future night in date order, as bookings do, then decide.
            nights = list(
                StationNight.objects.select_for_update().filter(station=station, date__gte=today).order_by("date")
            )
            too_full = next((n for n in nights if n.booked > beds), None)
            if too_full:
                raise ValidationError(
                    _("%(n)d guests are booked on %(date)s; cancel stays before reducing the beds.")
                    % {"n": too_full.booked, "date": too_full.date.isoformat()}
                )
            old = Station.objects.values_list("beds", flat=True).get(pk=station.pk)
            Station.objects.filter(pk=station.pk).update(beds=beds)
            StationNight.objects.filter(station=station, date__gte=today).update(capacity=beds)
            portal_services.audit_record(
                actor=actor,
                action="decision",
                target=station,
                reason=f"beds {old} → {beds}",
                detail={"beds": [old, beds]},
            )
    except IntegrityError as exc:  # a booking committed a night beyond the new beds meanwhile
        raise ValidationError(_("Guests booked meanwhile; reload the page and try again.")) from exc
    station.beds = beds
    return station


def station_close_nights(*, station: Station, actor: User, dates: Iterable[dt.date], reason: str = "") -> int:
    if not (actor.is_portal_staff and can_review_district(actor, station.district_id)):
        raise PermissionDenied
    dates = sorted(set(dates))
    with transaction.atomic():
        # Lock every night to close, guests or not, as bookings do: a booking of one of
        # them waits for the closure and then sees it.
        booked = next((n for n in _lock_nights(station, dates) if n.booked > 0), None)
        if booked:
            raise ValidationError(
                _("Guests are booked on %(date)s; cancel their stays first.") % {"date": booked.date.isoformat()}
            )
        StationClosure.objects.bulk_create(
            [StationClosure(station=station, date=d, reason=reason) for d in dates], ignore_conflicts=True
        )
        portal_services.audit_record(
            actor=actor,
            action="decision",
            target=station,
            reason=f"closed {', '.join(d.isoformat() for d in dates)} {reason}".strip(),
        )
    return len(dates)


# --- who else may see a guest's data ---------------------------------------------------------


@register_id_number_reader
def _station_staff_read_guest_id(user: User, profile) -> bool:
    """Staff of a station's district compare the ID card with the number at check-in, for
    guests with a current stay there (the guest's own district may be elsewhere)."""
    if not user.is_portal_staff:
        return False
    stays = Stay.objects.filter(applicant_id=profile.user_id, status__in=ACTIVE_STAY_STATES)
    return any(
        can_review_district(user, district_id) for district_id in stays.values_list("station__district_id", flat=True)
    )


@register_document_reader
def _station_staff_read_invitation(user: User, document) -> bool:
    if not user.is_portal_staff or document.kind != DocumentKind.INVITATION_LETTER:
        return False
    stays = Stay.objects.filter(invitation_document=document)
    return any(
        can_review_district(user, district_id) for district_id in stays.values_list("station__district_id", flat=True)
    )
