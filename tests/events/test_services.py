"""The events services: registering up to the capacity and then the waiting list in arrival
order, approvals, cancellations that offer the place to the next in line with a deadline,
offers that expire and pass on, capacity changes, check-in by code with volunteer hours,
no-shows, reminders, cancelled events, announcements to subscribers, the confirmation
e-mail with its calendar entry, and registration questions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from events import services
from events.constants import OFFER_HOURS, REMINDER_HOURS, EventKind, EventStatus, RegistrationStatus
from events.models import Registration, Subscription
from events.selectors import waitlist_position
from portal import sms
from portal.constants import DeliveryStatus
from portal.models import AuditEntry, Delivery, Notification
from tests.events.conftest import make_people, set_parameter
from tests.events.factories import EventFactory, RegistrationFactory
from tests.portal.factories import ProfileFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

R = RegistrationStatus


@pytest.fixture
def event(clock, district_1):
    """Published reading night in 洛龙区 on 4 June 2026 (three days after the clock's
    start), two places, registration open until 3 June."""
    return EventFactory(published=True, district=district_1, capacity=2, title="河洛书苑读书夜")


@pytest.fixture
def people(db):
    return make_people(6)


def register(event, user, **kwargs) -> Registration:
    return services.registration_create(event=event, user=user, **kwargs)


def statuses(event) -> list[tuple[int, str]]:
    return list(Registration.objects.filter(event=event).order_by("sequence").values_list("sequence", "status"))


def kinds_for(user) -> list[str]:
    return list(Notification.objects.filter(user=user).order_by("pk").values_list("kind", flat=True))


def codes(exc: ValidationError) -> list[str]:
    return [e.code for e in exc.error_list]


# --- registering: the places, then the waiting list ---------------------------------------------


def test_places_are_confirmed_until_full_then_the_waiting_list_fills_in_arrival_order(event, people):
    made = [register(event, user) for user in people[:5]]

    assert [r.status for r in made] == [R.CONFIRMED, R.CONFIRMED, R.WAITLISTED, R.WAITLISTED, R.WAITLISTED]
    assert [r.sequence for r in made] == [1, 2, 3, 4, 5]
    assert [waitlist_position(r) for r in made] == [None, None, 1, 2, 3]
    assert event.free_places == 0
    assert [kinds_for(u) for u in people[:3]] == [
        ["registration_confirmed"],
        ["registration_confirmed"],
        ["registration_waitlisted"],
    ]
    # Every ticket has its own code.
    assert len({r.check_in_code for r in made}) == 5


def test_a_second_registration_of_the_same_person_is_refused_but_after_cancelling_they_may_come_back(event, people):
    first = register(event, people[0])
    with pytest.raises(ValidationError) as refused:
        register(event, people[0])
    assert codes(refused.value) == ["once"]
    assert refused.value.messages == ["You are already registered"]

    services.registration_cancel(registration=first, actor=people[0])
    again = register(event, people[0])
    assert (again.status, again.sequence) == (R.CONFIRMED, 2)
    assert Registration.objects.filter(event=event, user=people[0]).count() == 2


def test_a_refused_registration_names_every_reason(event, clock):
    event.min_age, event.max_age, event.graduates_only = 18, 35, True
    event.save()
    clock.set(event.registration_closes)
    with pytest.raises(ValidationError) as refused:
        register(event, UserFactory())
    assert codes(refused.value) == ["window", "age", "graduate"]
    assert not Registration.objects.exists()


def test_a_draft_event_takes_no_registrations(clock, people):
    with pytest.raises(ValidationError) as refused:
        register(EventFactory(draft=True), people[0])
    assert codes(refused.value) == ["published"]


# --- approval -----------------------------------------------------------------------------------


@pytest.fixture
def social(clock, district_1):
    """A matchmaking social in 洛龙区 whose registrations the organiser approves."""
    return EventFactory(published=True, kind=EventKind.SOCIAL, requires_approval=True, capacity=1, title="青年联谊会")


def test_with_approval_registrations_wait_and_approval_confirms_then_waitlists(social, people, organiser):
    first, second = register(social, people[0]), register(social, people[1])
    assert (first.status, second.status) == (R.PENDING, R.PENDING)
    assert social.free_places == 1  # pending registrations hold no place
    assert kinds_for(people[0]) == ["registration_pending"]

    services.registration_approve(registration=second, actor=organiser)
    services.registration_approve(registration=first, actor=organiser)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (second.status, first.status) == (R.CONFIRMED, R.WAITLISTED)
    assert kinds_for(people[1])[-1] == "registration_confirmed"
    assert kinds_for(people[0])[-1] == "registration_waitlisted"
    entry = AuditEntry.objects.filter(object_id=str(second.pk), to_status=R.CONFIRMED).get()
    assert (entry.actor, entry.from_status) == (organiser, R.PENDING)


def test_staff_of_another_district_may_not_approve(social, people, staff_2):
    pending = register(social, people[0])
    with pytest.raises(PermissionDenied):
        services.registration_approve(registration=pending, actor=staff_2)
    pending.refresh_from_db()
    assert pending.status == R.PENDING


def test_rejecting_needs_a_reason_that_the_person_is_told(social, people, organiser):
    pending = register(social, people[0])
    for blank in ("", "   "):
        with pytest.raises(ValidationError) as refused:
            services.registration_reject(registration=pending, actor=organiser, reason=blank)
        assert refused.value.messages == ["Please give a reason for this decision."]
    pending.refresh_from_db()
    assert pending.status == R.PENDING

    services.registration_reject(registration=pending, actor=organiser, reason="名额仅限单身青年")
    pending.refresh_from_db()
    assert (pending.status, pending.status_reason) == (R.CANCELLED, "名额仅限单身青年")
    message = Notification.objects.filter(user=people[0], kind="registration_cancelled").get()
    assert "名额仅限单身青年" in message.body


def test_only_a_pending_registration_can_be_approved(social, people, organiser):
    pending = register(social, people[0])
    services.registration_approve(registration=pending, actor=organiser)
    with pytest.raises(ValidationError) as twice:
        services.registration_approve(registration=pending, actor=organiser)
    assert codes(twice.value) == ["transition_not_allowed"]


# --- cancellations and offers -----------------------------------------------------------------------


def test_a_cancellation_offers_the_place_to_the_first_waitlisted_until_the_parameter_deadline(event, people, clock):
    a, b, c = (register(event, user) for user in people[:3])
    d = register(event, people[3])
    assert [r.status for r in (a, b, c, d)] == [R.CONFIRMED, R.CONFIRMED, R.WAITLISTED, R.WAITLISTED]

    clock.advance(minutes=5)
    services.registration_cancel(registration=a, actor=people[0], reason="临时出差")
    c.refresh_from_db()
    d.refresh_from_db()
    assert c.status == R.OFFERED
    assert c.offer_expires_at == clock.moment + dt.timedelta(hours=12)  # events-offer-hours, loaded by the migration
    assert d.status == R.WAITLISTED and waitlist_position(d) == 1
    assert event.free_places == 0  # the offered place is held
    offer = Notification.objects.filter(user=people[2], kind="registration_offered").get()
    assert "2026-06-01 22:05" in offer.body  # the deadline, in local time


def test_a_newer_parameter_row_changes_the_offer_deadline(event, people, clock):
    set_parameter(OFFER_HOURS, 6, effective_from=clock.moment.date())
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    c.refresh_from_db()
    assert c.offer_expires_at == clock.moment + dt.timedelta(hours=6)


def test_a_district_parameter_row_wins_over_the_city_row_and_fractions_of_hours_count(event, people, clock, district_1):
    set_parameter(OFFER_HOURS, Decimal("1.5"), effective_from=clock.moment.date(), district=district_1)
    set_parameter(OFFER_HOURS, 48, effective_from=clock.moment.date() + dt.timedelta(days=1))  # not yet in force
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    c.refresh_from_db()
    assert c.offer_expires_at == clock.moment + dt.timedelta(hours=1, minutes=30)


def test_accepting_the_offer_before_the_deadline_confirms(event, people, clock):
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    clock.advance(hours=11, minutes=59)
    services.registration_accept_offer(registration=c, actor=people[2])
    c.refresh_from_db()
    assert (c.status, c.offer_expires_at) == (R.CONFIRMED, None)
    assert kinds_for(people[2]) == ["registration_waitlisted", "registration_offered", "registration_confirmed"]


def test_accepting_after_the_deadline_is_refused(event, people, clock):
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    clock.advance(hours=12)
    with pytest.raises(ValidationError) as late:
        services.registration_accept_offer(registration=c, actor=people[2])
    assert late.value.messages == ["The offer has expired; the place went to the next person."]
    c.refresh_from_db()
    assert c.status == R.OFFERED


def test_only_the_person_offered_may_accept(event, people):
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    with pytest.raises(PermissionDenied):
        services.registration_accept_offer(registration=c, actor=people[1])


def test_an_expired_offer_passes_the_place_to_the_next_in_line(event, people, clock):
    a, _b, c, d = (register(event, user) for user in people[:4])
    services.registration_cancel(registration=a, actor=people[0])
    clock.advance(hours=11)
    assert services.offers_expire() == 0  # still open
    clock.advance(hours=1, seconds=1)
    assert services.offers_expire() == 1
    c.refresh_from_db()
    d.refresh_from_db()
    assert (c.status, c.status_reason, c.offer_expires_at) == (R.CANCELLED, "The offer was not confirmed in time", None)
    assert d.status == R.OFFERED and d.offer_expires_at == clock.moment + dt.timedelta(hours=12)
    assert services.offers_expire() == 0  # nothing more to do

    services.registration_accept_offer(registration=d, actor=people[3])
    d.refresh_from_db()
    assert d.status == R.CONFIRMED
    assert Registration.objects.filter(event=event, status__in=[R.CONFIRMED, R.OFFERED]).count() == 2


def test_a_declined_offer_goes_to_the_next(event, people):
    a, _b, c, d = (register(event, user) for user in people[:4])
    services.registration_cancel(registration=a, actor=people[0])
    services.registration_cancel(registration=c, actor=people[2])
    d.refresh_from_db()
    assert d.status == R.OFFERED


def test_newcomers_do_not_jump_the_queue_while_a_place_is_on_offer(event, people):
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    late = register(event, people[3])
    assert late.status == R.WAITLISTED
    assert waitlist_position(late) == 1
    c.refresh_from_db()
    assert c.status == R.OFFERED


def test_people_may_leave_the_waiting_list_and_the_others_move_up(event, people):
    made = [register(event, user) for user in people[:5]]
    services.registration_cancel(registration=made[2], actor=people[2])
    for r in made:
        r.refresh_from_db()
    assert [r.status for r in made] == [R.CONFIRMED, R.CONFIRMED, R.CANCELLED, R.WAITLISTED, R.WAITLISTED]
    assert [waitlist_position(r) for r in made[3:]] == [1, 2]
    assert not Registration.objects.filter(status=R.OFFERED).exists()  # leaving the list frees no place


def test_someone_else_may_not_cancel_a_registration(event, people, staff_2):
    mine = register(event, people[0])
    for stranger in (people[1], staff_2):
        with pytest.raises(PermissionDenied):
            services.registration_cancel(registration=mine, actor=stranger)


def test_a_cancellation_after_the_start_offers_nothing(event, people, clock):
    a, _b, c = (register(event, user) for user in people[:3])
    clock.set(event.starts_at + dt.timedelta(minutes=10))
    services.registration_cancel(registration=a, actor=people[0])
    c.refresh_from_db()
    assert c.status == R.WAITLISTED


# --- capacity changes ------------------------------------------------------------------------------


def test_more_places_are_offered_to_the_waiting_list_at_once(event, people, organiser):
    made = [register(event, user) for user in people[:5]]
    services.event_update(event=event, actor=organiser, data={"capacity": 4})
    for r in made:
        r.refresh_from_db()
    assert [r.status for r in made] == [R.CONFIRMED, R.CONFIRMED, R.OFFERED, R.OFFERED, R.WAITLISTED]


def test_fewer_places_than_taken_is_refused(event, people, organiser):
    for user in people[:3]:
        register(event, user)
    with pytest.raises(ValidationError) as refused:
        services.event_update(event=event, actor=organiser, data={"capacity": 1})
    assert refused.value.message_dict == {"capacity": ["2 places are already taken."]}
    event.refresh_from_db()
    assert event.capacity == 2
    services.event_update(event=event, actor=organiser, data={"capacity": 2, "title": "河洛书苑读书夜（第二期）"})
    event.refresh_from_db()
    assert event.title == "河洛书苑读书夜（第二期）"


def test_staff_of_another_district_may_not_change_the_event(event, staff_2):
    with pytest.raises(PermissionDenied):
        services.event_update(event=event, actor=staff_2, data={"capacity": 5})


# --- check-in ---------------------------------------------------------------------------------------


@pytest.fixture
def volunteering(clock, district_1):
    return EventFactory(
        published=True, kind=EventKind.VOLUNTEER, capacity=1, volunteer_hours=Decimal("3.5"), title="洛河清洁志愿服务"
    )


def test_check_in_by_code_typed_in_lower_case_with_spaces_credits_volunteer_hours(
    volunteering, graduate_a, organiser, at_the_event
):
    registration = register(volunteering, graduate_a)
    at_the_event(volunteering)
    code = registration.check_in_code
    typed = f" {code[:4].lower()} {code[4:].lower()} "

    checked = services.registration_check_in(event=volunteering, code=typed, actor=organiser)

    assert checked.pk == registration.pk
    assert (checked.status, checked.checked_in_at) == (R.ATTENDED, checked.checked_in_at)
    assert checked.checked_in_at is not None
    graduate_a.profile.refresh_from_db()
    assert graduate_a.profile.volunteer_hours == Decimal("3.5")


def test_checking_in_twice_is_refused_and_credits_no_more_hours(volunteering, graduate_a, organiser, at_the_event):
    registration = register(volunteering, graduate_a)
    at_the_event(volunteering)
    services.registration_check_in(event=volunteering, code=registration.check_in_code, actor=organiser)
    with pytest.raises(ValidationError) as twice:
        services.registration_check_in(event=volunteering, code=registration.check_in_code, actor=organiser)
    assert codes(twice.value) == ["twice"]
    assert twice.value.messages == ["Already checked in at 10:10."]
    graduate_a.profile.refresh_from_db()
    assert graduate_a.profile.volunteer_hours == Decimal("3.5")


def test_a_wrong_code_is_refused_naming_the_code(volunteering, organiser):
    with pytest.raises(ValidationError) as wrong:
        services.registration_check_in(event=volunteering, code="zzzz 2222", actor=organiser)
    assert codes(wrong.value) == ["unknown"]
    assert wrong.value.messages == ["No ticket has the code ZZZZ2222. Check the letters and try again."]


def test_another_events_ticket_is_refused_without_naming_that_event(volunteering, event, graduate_a, organiser):
    elsewhere = register(event, graduate_a)
    with pytest.raises(ValidationError) as other:
        services.registration_check_in(event=volunteering, code=elsewhere.check_in_code, actor=organiser)
    assert codes(other.value) == ["other_event"]
    # The other event may belong to another district or employer: its name is not shown.
    assert other.value.messages == ["This ticket is for another event."]
    elsewhere.refresh_from_db()
    assert elsewhere.status == R.CONFIRMED


def test_a_waitlisted_ticket_is_refused(volunteering, graduate_a, graduate_b, organiser, at_the_event):
    register(volunteering, graduate_a)
    waiting = register(volunteering, graduate_b)
    at_the_event(volunteering)
    with pytest.raises(ValidationError) as refused:
        services.registration_check_in(event=volunteering, code=waiting.check_in_code, actor=organiser)
    assert codes(refused.value) == ["not_confirmed"]
    assert refused.value.messages == ["This ticket is not confirmed (On the waiting list)."]
    graduate_b.profile.refresh_from_db()
    assert graduate_b.profile.volunteer_hours == 0


def test_only_organisers_check_people_in(volunteering, graduate_a, staff_2):
    registration = register(volunteering, graduate_a)
    for outsider in (staff_2, graduate_a):
        with pytest.raises(PermissionDenied):
            services.registration_check_in(event=volunteering, code=registration.check_in_code, actor=outsider)


def test_members_of_the_organising_employer_check_people_in(clock, graduate_a):
    from tests.portal.factories import OrganisationFactory

    organisation = OrganisationFactory(verified=True)
    member = organisation.memberships.get().user
    fair = EventFactory(published=True, kind=EventKind.RECRUITMENT, organiser=organisation)
    registration = register(fair, graduate_a)
    clock.set(fair.starts_at)
    assert (
        services.registration_check_in(event=fair, code=registration.check_in_code, actor=member).status == R.ATTENDED
    )


@pytest.mark.parametrize(
    ("moment", "code", "message"),
    [
        (
            lambda e: e.starts_at - dt.timedelta(hours=2, minutes=1),
            "too_early",
            "Check-in opens at {opens}, two hours before the start.",
        ),
        (lambda e: e.ends_at + dt.timedelta(minutes=1), "ended", "The event ended at {ends}; check-in is closed."),
    ],
    ids=["days-before", "after-the-end"],
)
def test_tickets_are_checked_in_only_from_two_hours_before_the_start_to_the_end(
    volunteering, graduate_a, organiser, clock, moment, code, message
):
    registration = register(volunteering, graduate_a)
    clock.set(moment(volunteering))
    with pytest.raises(ValidationError) as refused:
        services.registration_check_in(event=volunteering, code=registration.check_in_code, actor=organiser)
    assert codes(refused.value) == [code]
    local = timezone.localtime
    assert refused.value.messages == [
        message.format(
            opens=f"{local(volunteering.starts_at - dt.timedelta(hours=2)):%Y-%m-%d %H:%M}",
            ends=f"{local(volunteering.ends_at):%Y-%m-%d %H:%M}",
        )
    ]
    registration.refresh_from_db()
    assert registration.status == R.CONFIRMED
    graduate_a.profile.refresh_from_db()
    assert graduate_a.profile.volunteer_hours == 0
    # Two hours before the start, the door opens.
    clock.set(volunteering.starts_at - dt.timedelta(hours=2))
    if code == "too_early":
        checked = services.registration_check_in(event=volunteering, code=registration.check_in_code, actor=organiser)
        assert checked.status == R.ATTENDED


# --- after the event: no-shows ---------------------------------------------------------------------


def test_after_the_end_confirmed_people_who_never_came_are_no_shows(event, people, organiser, clock):
    came, missed, waiting = (register(event, user) for user in people[:3])
    clock.set(event.starts_at)
    services.registration_check_in(event=event, code=came.check_in_code, actor=organiser)

    clock.set(event.ends_at - dt.timedelta(minutes=1))
    assert services.events_mark_no_shows() == 0
    clock.set(event.ends_at + dt.timedelta(minutes=1))
    assert services.events_mark_no_shows() == 1
    assert services.events_mark_no_shows() == 0  # once per event

    for r in (came, missed, waiting):
        r.refresh_from_db()
    assert [r.status for r in (came, missed, waiting)] == [R.ATTENDED, R.NO_SHOW, R.CANCELLED]
    assert waiting.status_reason == "The event has ended"
    event.refresh_from_db()
    assert event.no_shows_marked_at == clock.moment


# --- reminders --------------------------------------------------------------------------------------


def test_a_reminder_goes_once_to_confirmed_people_a_day_before(event, people, clock):
    confirmed, _other, waiting = (register(event, user) for user in people[:3])
    # The event starts 72 hours after the clock's start.
    clock.advance(hours=47)
    assert services.events_send_reminders() == 0  # 25 hours before: too early
    clock.advance(hours=1, minutes=1)
    assert services.events_send_reminders() == 2
    assert services.events_send_reminders() == 0  # only once
    confirmed.refresh_from_db()
    assert confirmed.reminded_at == clock.moment
    reminder = Notification.objects.get(user=people[0], kind="event_reminder")
    assert confirmed.check_in_code in reminder.body
    assert not Notification.objects.filter(user=waiting.user, kind="event_reminder").exists()


def test_no_reminder_once_the_event_has_started_or_for_a_cancelled_event(event, people, clock, organiser):
    register(event, people[0])
    clock.set(event.starts_at + dt.timedelta(minutes=1))
    assert services.events_send_reminders() == 0
    clock.set(event.starts_at - dt.timedelta(hours=2))
    services.event_cancel(event=event, actor=organiser, reason="场地维修")
    assert services.events_send_reminders() == 0


def test_the_reminder_hours_are_a_parameter(event, people, clock):
    register(event, people[0])
    set_parameter(REMINDER_HOURS, 80, effective_from=clock.moment.date())
    assert services.events_send_reminders() == 1


# --- a cancelled event -------------------------------------------------------------------------------


def test_cancelling_the_event_cancels_every_open_registration_and_tells_everyone_once(event, people, organiser, clock):
    a, b, c, d = (register(event, user) for user in people[:4])
    services.registration_cancel(registration=a, actor=people[0])  # c is offered the place

    with pytest.raises(ValidationError):
        services.event_cancel(event=event, actor=organiser, reason=" ")
    services.event_cancel(event=event, actor=organiser, reason="场地维修")

    event.refresh_from_db()
    assert (event.status, event.status_reason) == (EventStatus.CANCELLED, "场地维修")
    for r in (b, c, d):
        r.refresh_from_db()
    assert [(r.status, r.status_reason) for r in (b, c, d)] == [(R.CANCELLED, "场地维修")] * 3
    for user in people[1:4]:
        assert Notification.objects.filter(user=user, kind="event_cancelled").count() == 1
        cancellations = Notification.objects.filter(user=user, kind__in=["event_cancelled", "registration_cancelled"])
        assert cancellations.count() == 1, list(cancellations.values_list("kind", flat=True))
    assert not Notification.objects.filter(user=people[0], kind="event_cancelled").exists()  # had cancelled before
    assert "场地维修" in Notification.objects.filter(user=people[1], kind="event_cancelled").get().body
    with pytest.raises(ValidationError) as closed:
        register(event, people[5])
    assert codes(closed.value) == ["published"]


def test_staff_of_another_district_may_not_cancel_the_event(event, staff_2):
    with pytest.raises(PermissionDenied):
        services.event_cancel(event=event, actor=staff_2, reason="场地维修")


# --- announcements -----------------------------------------------------------------------------------


def test_an_announcement_reaches_each_follower_of_the_district_or_the_kind_once(
    event, organiser, district_1, district_2, django_capture_on_commit_callbacks, mailoutbox
):
    u = {
        name: UserFactory(username=name)
        for name in ("district", "kind", "both_in_one", "both_apart", "none_1", "none_2", "none_3", "none_4")
    }
    Subscription.objects.bulk_create(
        [
            Subscription(user=u["district"], district=district_1),
            Subscription(user=u["kind"], kind=EventKind.SALON),
            Subscription(user=u["both_in_one"], district=district_1, kind=EventKind.SALON),
            Subscription(user=u["both_apart"], district=district_1),
            Subscription(user=u["both_apart"], kind=EventKind.SALON),
            Subscription(user=u["none_1"], district=district_2),
            Subscription(user=u["none_2"], kind=EventKind.FORUM),
            Subscription(user=u["none_3"], district=district_1, kind=EventKind.FORUM),  # another kind in the district
            Subscription(user=u["none_4"], district=district_2, kind=EventKind.SALON),  # the kind in another district
        ]
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert services.event_announce(event=event, actor=organiser) == 4

    received = dict.fromkeys(u, 0)
    for user_id in Notification.objects.filter(kind="event_announcement").values_list("user_id", flat=True):
        received[next(name for name, user in u.items() if user.pk == user_id)] += 1
    assert received == {
        "district": 1,
        "kind": 1,
        "both_in_one": 1,
        "both_apart": 1,
        "none_1": 0,
        "none_2": 0,
        "none_3": 0,
        "none_4": 0,
    }
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        u[n].email for n in ("district", "kind", "both_in_one", "both_apart")
    )
    assert all(event.title in m.subject for m in mailoutbox)
    assert AuditEntry.objects.filter(object_id=str(event.pk), reason="announce", detail__recipients=4).exists()


def test_only_organisers_announce_and_only_published_events(event, staff_2, organiser, clock):
    with pytest.raises(PermissionDenied):
        services.event_announce(event=event, actor=staff_2)
    draft = EventFactory(draft=True)
    with pytest.raises(ValidationError):
        services.event_announce(event=draft, actor=organiser)


# --- the confirmation e-mail ------------------------------------------------------------------------


def test_the_confirmation_email_carries_the_calendar_entry(event, django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory(language="en")  # messages are written in the user's language
    with django_capture_on_commit_callbacks(execute=True):
        registration = register(event, user)

    [message] = mailoutbox
    assert message.to == [user.email]
    assert message.subject == "You are registered: 河洛书苑读书夜"
    assert registration.check_in_code in message.body
    [(filename, content, mimetype)] = message.attachments
    assert filename == f"event-{event.pk}.ics"
    assert mimetype.startswith("text/calendar")
    assert content.startswith("BEGIN:VCALENDAR\r\n")
    assert f"UID:event-{event.pk}@" in content
    assert "SUMMARY:河洛书苑读书夜" in content
    # The same confirmation goes by SMS, without the attachment.
    assert [m["to"] for m in sms.outbox] == [user.phone]
    assert Delivery.objects.filter(notification__user=user, status=DeliveryStatus.SENT).count() == 2


def test_the_waiting_list_email_has_no_attachment_and_an_accepted_offer_sends_the_calendar_entry(
    event, people, django_capture_on_commit_callbacks, mailoutbox
):
    a, _b, c = (register(event, user) for user in people[:3])
    services.registration_cancel(registration=a, actor=people[0])
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_accept_offer(registration=c, actor=people[2])
    [message] = mailoutbox
    assert message.to == [people[2].email]
    assert [name for name, _content, _type in message.attachments] == [f"event-{event.pk}.ics"]


# --- registration questions --------------------------------------------------------------------------

QUESTIONS = [
    {"label": "所学专业", "type": "text", "required": True},
    {"label": "同行人数", "type": "number"},
    {"label": "场次", "type": "choice", "choices": ["上午", "下午"], "required": True},
]


@pytest.fixture
def with_questions(clock):
    return EventFactory(published=True, questions=QUESTIONS)


def test_answers_are_cleaned_and_kept(with_questions, people):
    registration = register(
        with_questions, people[0], answers={"0": "  机械工程 ", "1": " 2 ", "2": "下午", "9": "ignored"}
    )
    assert registration.answers == {"0": "机械工程", "1": "2", "2": "下午"}
    optional_left_out = register(with_questions, people[1], answers={"0": "法学", "2": "上午"})
    assert optional_left_out.answers == {"0": "法学", "2": "上午"}


@pytest.mark.parametrize(
    ("answers", "messages"),
    [
        ({}, ["Please answer: 所学专业", "Please answer: 场次"]),
        ({"0": "   ", "2": "上午"}, ["Please answer: 所学专业"]),
        ({"0": "法学", "1": "两个", "2": "上午"}, ["Please answer with a number: 同行人数"]),
        ({"0": "法学", "2": "晚上"}, ["Please choose one of the answers: 场次"]),
    ],
    ids=["nothing", "blank-required", "not-a-number", "not-a-choice"],
)
def test_answers_are_checked(with_questions, people, answers, messages):
    with pytest.raises(ValidationError) as refused:
        register(with_questions, people[0], answers=answers)
    assert refused.value.messages == messages
    assert not Registration.objects.exists()


def test_events_with_malformed_questions_are_refused(organiser, district_1, clock):
    data = {
        "kind": EventKind.SALON,
        "title": "读书夜",
        "description": "共读",
        "district": district_1,
        "place": "河洛书苑",
        "starts_at": clock.moment + dt.timedelta(days=3),
        "ends_at": clock.moment + dt.timedelta(days=3, hours=2),
        "capacity": 10,
        "registration_opens": clock.moment,
        "registration_closes": clock.moment + dt.timedelta(days=2),
    }
    for questions in (
        [{"label": "场次", "type": "choice"}],
        [{"label": "", "type": "text"}],
        [{"label": "x", "type": "date"}],
    ):
        with pytest.raises(ValidationError) as refused:
            services.event_create(actor=organiser, data={**data, "questions": questions})
        assert "questions" in refused.value.message_dict
    assert services.event_create(actor=organiser, data={**data, "questions": QUESTIONS}).status == EventStatus.DRAFT


# --- factories keep the arrival numbers unique ---------------------------------------------------------


def test_the_full_helper_and_the_factories(clock):
    full = EventFactory.full(capacity=3, waitlisted=2)
    assert statuses(full) == [
        (1, R.CONFIRMED),
        (2, R.CONFIRMED),
        (3, R.CONFIRMED),
        (4, R.WAITLISTED),
        (5, R.WAITLISTED),
    ]
    assert full.free_places == 0
    assert register(full, UserFactory()).sequence == 6
    offered = RegistrationFactory(offered=True)
    assert offered.offer_expires_at == clock.moment + dt.timedelta(hours=12)
    assert ProfileFactory(complete=True).birth_date is not None


# --- guards added after review ---------------------------------------------------------------


def test_a_checked_in_person_keeps_their_place(organiser, district_1, at_the_event):
    event = EventFactory(published=True, capacity=2, district=district_1)
    first, second, third = make_people(3, prefix="seat")
    ticket = register(event, first)
    register(event, second)
    assert register(event, third).status == RegistrationStatus.WAITLISTED
    at_the_event(event)
    services.registration_check_in(event=event, code=ticket.check_in_code, actor=organiser)
    # Both places are still taken (one attended, one confirmed): nobody moves up.
    assert Registration.objects.get(event=event, user=third).status == RegistrationStatus.WAITLISTED
    event.refresh_from_db()
    assert event.free_places == 0
    with pytest.raises(ValidationError) as refused:
        services.event_update(event=event, actor=organiser, data={"capacity": 1})
    assert "capacity" in refused.value.message_dict


def test_employers_organise_only_fairs_and_salons_and_change_only_drafts(employer_x, city_staff, district_1):
    from portal import services as portal_services

    organisation = employer_x.organisations.get()
    portal_services.organisation_verify(organisation=organisation, actor=city_staff)
    data = {
        "title": "论坛",
        "description": "d",
        "district": district_1,
        "place": "会议室",
        "starts_at": timezone_now() + dt.timedelta(days=3),
        "ends_at": timezone_now() + dt.timedelta(days=3, hours=2),
        "capacity": 10,
        "registration_opens": timezone_now() - dt.timedelta(hours=1),
        "registration_closes": timezone_now() + dt.timedelta(days=2),
    }
    with pytest.raises(ValidationError) as refused:
        services.event_create(actor=employer_x, organiser=organisation, data={**data, "kind": EventKind.FORUM})
    assert "kind" in refused.value.message_dict
    fair = services.event_create(actor=employer_x, organiser=organisation, data={**data, "kind": EventKind.RECRUITMENT})
    services.event_submit(event=fair, actor=employer_x)
    services.event_publish(event=fair, actor=city_staff)
    fair.refresh_from_db()
    with pytest.raises(ValidationError):
        services.event_update(event=fair, actor=employer_x, data={"title": "改名"})
    assert services.event_update(event=fair, actor=city_staff, data={"title": "改名"}).title == "改名"


def test_an_event_is_announced_once(organiser, event, django_capture_on_commit_callbacks):
    Subscription.objects.create(user=UserFactory(), district=event.district)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.event_announce(event=event, actor=organiser) == 1
    with pytest.raises(ValidationError, match="already announced"):
        services.event_announce(event=event, actor=organiser)
    assert Notification.objects.filter(kind="event_announcement").count() == 1


def timezone_now():
    from django.utils import timezone

    return timezone.now()
