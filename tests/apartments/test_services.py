"""The youth-station services: beds per night, the 15-night allowance across stays and
stations, one stay at a time, the stay lifecycle through the shared transition service,
no-shows, "tell me when a bed frees", job suggestions to residents and follow-up visits.

The clock fixture moves "now" from the booking day to the check-in and check-out days."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from apartments import constants as c
from apartments import selectors, services
from apartments.constants import FollowUpOutcome, FollowUpStage, StayStatus
from apartments.models import BedAlert, FollowUp, StationClosure, StationNight, Stay
from portal import sms
from portal.constants import AuditAction, DocumentKind, EducationLevel
from portal.models import AuditEntry, Delivery, Document, Notification
from portal.services import TransitionNotAllowed
from tests.apartments.conftest import DAY0, give_interview, give_letter, make_graduate, make_station, set_parameter

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


def day(n: int) -> dt.date:
    return DAY0 + dt.timedelta(days=n)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def letter(user) -> Document:
    """The graduate's invitation letter (uploaded once)."""
    return Document.objects.filter(owner=user, kind=DocumentKind.INVITATION_LETTER).first() or give_letter(user)


def book(user, station, check_in: dt.date, nights: int, **kwargs) -> Stay:
    kwargs.setdefault("invitation_document", letter(user))
    return services.stay_book(applicant=user, station=station, check_in=check_in, nights=nights, **kwargs)


def booked(station, first: dt.date, count: int) -> list[int]:
    """Beds taken on ``count`` nights from ``first`` (0 for a night without a row)."""
    rows = dict(StationNight.objects.filter(station=station).values_list("date", "booked"))
    return [rows.get(first + dt.timedelta(days=i), 0) for i in range(count)]


def stay_through(clock, staff, user, station, check_in: dt.date, nights: int) -> Stay:
    """Book the day before, check in at 15:00 on the day, check out on the departure morning."""
    clock.set(check_in - dt.timedelta(days=1), hour=10)
    stay = book(user, station, check_in, nights)
    clock.set(check_in, hour=15)
    services.stay_check_in(stay=stay, actor=staff)
    clock.set(stay.check_out, hour=10)
    services.stay_check_out(stay=stay, actor=staff)
    stay.refresh_from_db()
    return stay


def messages(exc_info) -> str:
    return " | ".join(exc_info.value.messages)


# --- beds per night ---------------------------------------------------------------------------


def test_a_booking_takes_one_bed_on_each_of_its_nights(graduate, graduate_2, station):
    stay = book(graduate, station, day(1), 3)
    assert stay.status == StayStatus.BOOKED
    assert stay.check_out == day(4)
    assert stay.eligibility["eligible"] is True
    assert stay.eligibility["parameters"]["max_nights"] == 15
    assert booked(station, day(0), 5) == [0, 1, 1, 1, 0]
    assert set(StationNight.objects.filter(station=station).values_list("capacity", flat=True)) == {2}

    book(graduate_2, station, day(2), 3)
    assert booked(station, day(0), 6) == [0, 1, 2, 2, 1, 0]
    free = [n.free for n in selectors.availability(station=station, start=day(1), days=5)]
    assert free == [1, 0, 0, 1, 2]


def test_a_full_night_refuses_the_booking_and_names_the_night(graduate, graduate_2, district_1):
    small = make_station(district_1, beds=1, name="一床驿站")
    book(graduate, small, day(1), 2)
    with pytest.raises(ValidationError) as exc:
        book(graduate_2, small, day(2), 3)
    assert exc.value.code == "full"
    assert messages(exc) == (
        f"No bed is free on the night of {day(2).isoformat()}. Choose other dates, or ask to be told when a bed frees."
    )
    # Nothing of the refused booking stays behind.
    assert not Stay.objects.filter(applicant=graduate_2).exists()
    assert booked(small, day(1), 4) == [1, 1, 0, 0]


def test_the_database_refuses_more_guests_than_beds_whatever_the_service_checked(graduate, station):
    from django.db import IntegrityError, transaction

    book(graduate, station, day(1), 1)
    night = StationNight.objects.get(station=station, date=day(1))
    with pytest.raises(IntegrityError), transaction.atomic():
        StationNight.objects.filter(pk=night.pk).update(booked=night.capacity + 1)


def test_an_inactive_station_takes_no_bookings(graduate, station):
    station.active = False
    station.save()
    with pytest.raises(ValidationError, match="not taking bookings"):
        book(graduate, station, day(1), 1)


def test_at_least_one_night(graduate, station):
    with pytest.raises(ValidationError, match="at least one night"):
        book(graduate, station, day(1), 0)


def test_closed_nights_refuse_bookings(graduate, station, staff_1, staff_2):
    with pytest.raises(PermissionDenied):
        services.station_close_nights(station=station, actor=staff_2, dates=[day(2)])
    services.station_close_nights(station=station, actor=staff_1, dates=[day(2)], reason="维修")
    with pytest.raises(ValidationError) as exc:
        book(graduate, station, day(1), 3)
    assert exc.value.code == "closed"
    assert messages(exc) == f"The station is closed on the night of {day(2).isoformat()}."
    assert booked(station, day(1), 3) == [0, 0, 0]
    assert [n.free for n in selectors.availability(station=station, start=day(1), days=3)] == [2, 0, 2]
    assert book(graduate, station, day(3), 2).status == StayStatus.BOOKED


def test_nights_with_guests_cannot_be_closed(graduate, station, staff_1):
    book(graduate, station, day(1), 2)
    with pytest.raises(ValidationError, match=day(2).isoformat()):
        services.station_close_nights(station=station, actor=staff_1, dates=[day(2), day(3)])
    assert not StationClosure.objects.exists()


def test_fewer_beds_never_below_the_guests_already_booked(graduate, graduate_2, station, staff_1, staff_2):
    book(graduate, station, day(1), 2)
    book(graduate_2, station, day(2), 1)
    with pytest.raises(PermissionDenied):
        services.station_set_beds(station=station, actor=staff_2, beds=5)
    with pytest.raises(ValidationError, match=f"2 guests are booked on {day(2).isoformat()}"):
        services.station_set_beds(station=station, actor=staff_1, beds=1)
    services.station_set_beds(station=station, actor=staff_1, beds=4)
    station.refresh_from_db()
    assert station.beds == 4
    assert set(StationNight.objects.filter(station=station).values_list("capacity", flat=True)) == {4}


# --- the free-night allowance and one stay at a time -----------------------------------------


def test_the_allowance_counts_across_stays_and_stations(clock, graduate, station, station_2, staff_1):
    first = stay_through(clock, staff_1, graduate, station, day(1), 10)
    assert first.status == StayStatus.CHECKED_OUT
    assert first.nights_released == 0
    assert selectors.nights_used(user=graduate) == 10

    clock.set(day(12))
    with pytest.raises(ValidationError) as exc:
        book(graduate, station_2, day(13), 6)
    assert [e.code for e in exc.value.error_list] == ["nights"]
    assert messages(exc) == "Free nights: 6 asked, 5 of 15 left"
    assert not Stay.objects.filter(station=station_2).exists()

    second = book(graduate, station_2, day(13), 5)
    assert second.status == StayStatus.BOOKED
    assert selectors.nights_used(user=graduate) == 15


def test_the_allowance_comes_from_the_parameter(graduate, station):
    set_parameter(c.MAX_NIGHTS, 3, effective_from=day(0))
    with pytest.raises(ValidationError, match="4 asked, 3 of 3 left"):
        book(graduate, station, day(1), 4)
    assert book(graduate, station, day(1), 3).eligibility["parameters"]["max_nights"] == 3


def test_leaving_early_gives_the_unused_nights_back(clock, graduate, station, staff_1):
    clock.set(day(0))
    stay = book(graduate, station, day(1), 5)
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(3), hour=9)  # leaves on the morning of the third day: two nights slept
    services.stay_check_out(stay=stay, actor=staff_1)
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_OUT
    assert stay.nights_released == 3
    assert selectors.nights_used(user=graduate) == 2
    assert booked(station, day(1), 5) == [1, 1, 0, 0, 0]

    again = book(graduate, station, day(4), 13)
    assert again.status == StayStatus.BOOKED


def test_checking_out_on_the_arrival_day_counts_one_night(clock, graduate, station, staff_1):
    stay = book(graduate, station, day(1), 4)
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(1), hour=20)
    services.stay_check_out(stay=stay, actor=staff_1)
    stay.refresh_from_db()
    assert stay.nights_released == 3
    assert selectors.nights_used(user=graduate) == 1
    assert booked(station, day(1), 4) == [1, 0, 0, 0]


def test_cancelling_frees_the_nights_at_once_and_counts_nothing(graduate, graduate_2, district_1):
    small = make_station(district_1, beds=1, name="一床驿站")
    stay = book(graduate, small, day(1), 4)
    with pytest.raises(ValidationError):
        book(graduate_2, small, day(2), 1)

    services.stay_cancel(stay=stay, actor=graduate, reason="面试改期")
    stay.refresh_from_db()
    assert stay.status == StayStatus.CANCELLED
    assert stay.status_reason == "面试改期"
    assert booked(small, day(1), 4) == [0, 0, 0, 0]
    assert selectors.nights_used(user=graduate) == 0
    assert book(graduate_2, small, day(2), 1).status == StayStatus.BOOKED
    # The whole allowance is still there.
    assert book(graduate, small, day(3), 15).nights == 15
    entry = AuditEntry.objects.filter(object_id=str(stay.pk), action=AuditAction.TRANSITION).get()
    assert (entry.from_status, entry.to_status, entry.actor) == ("booked", "cancelled", graduate)


def test_who_may_cancel(graduate, graduate_2, station, staff_1, staff_2):
    stay = book(graduate, station, day(1), 2)
    for outsider in (graduate_2, staff_2):
        with pytest.raises(PermissionDenied):
            services.stay_cancel(stay=stay, actor=outsider)
    services.stay_cancel(stay=stay, actor=staff_1, reason="床位维修")
    stay.refresh_from_db()
    assert stay.status == StayStatus.CANCELLED
    with pytest.raises(TransitionNotAllowed):
        services.stay_cancel(stay=stay, actor=graduate)


def test_one_active_stay_at_a_time(clock, graduate, station, station_2, staff_1):
    stay = book(graduate, station, day(1), 2)
    with pytest.raises(ValidationError) as exc:
        book(graduate, station_2, day(5), 2)
    assert messages(exc) == "One stay at a time: you already have a booking"

    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    with pytest.raises(ValidationError, match="One stay at a time"):
        book(graduate, station_2, day(5), 2)

    clock.set(day(3))
    services.stay_check_out(stay=stay, actor=staff_1)
    assert book(graduate, station_2, day(5), 2).status == StayStatus.BOOKED


def test_the_database_allows_one_active_stay_whatever_the_service_checked(graduate, station):
    from django.db import IntegrityError, transaction

    book(graduate, station, day(1), 2)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stay.objects.create(applicant=graduate, station=station, check_in=day(5), nights=1)


# --- the job-search reason --------------------------------------------------------------------


def test_no_invitation_refuses_and_an_interview_in_the_jobs_programme_is_enough(clock, graduate, station):
    with pytest.raises(ValidationError, match="no interview invitation yet"):
        services.stay_book(applicant=graduate, station=station, check_in=day(2), nights=2)

    interview = give_interview(graduate, starts_at=clock.moment + dt.timedelta(days=3))  # on the second night
    stay = services.stay_book(applicant=graduate, station=station, check_in=day(2), nights=2)
    assert stay.interview == interview
    assert stay.invitation_document is None
    reason = next(x for x in stay.eligibility["criteria"] if x["code"] == "reason")
    assert reason["passed"] is True


def test_an_interview_long_after_the_stay_is_no_reason(clock, graduate, station):
    give_interview(graduate, starts_at=clock.moment + dt.timedelta(days=20))
    with pytest.raises(ValidationError, match="no interview invitation yet"):
        services.stay_book(applicant=graduate, station=station, check_in=day(2), nights=2)


def test_the_letter_must_be_the_applicants_own_invitation_letter(graduate, graduate_2, station):
    with pytest.raises(ValidationError, match="your own uploaded invitation"):
        book(graduate, station, day(1), 1, invitation_document=letter(graduate_2))
    cv = give_letter(graduate, kind=DocumentKind.CV)
    with pytest.raises(ValidationError, match="your own uploaded invitation"):
        book(graduate, station, day(1), 1, invitation_document=cv)
    assert not Stay.objects.exists()
    assert book(graduate, station, day(1), 1).invitation_document == letter(graduate)


def test_graduates_from_luoyang_and_late_bookings_are_refused(clock, district_1, station):
    local = make_graduate(district=district_1, hukou_city="洛阳市")
    with pytest.raises(ValidationError, match="in Luoyang"):
        book(local, station, day(1), 1)

    graduate = make_graduate(district=district_1)
    clock.set(day(1), hour=12, minute=1)
    with pytest.raises(ValidationError, match="Too late"):
        book(graduate, station, day(1), 1)
    clock.set(day(1), hour=12)
    assert book(graduate, station, day(1), 1).status == StayStatus.BOOKED


# --- check-in and check-out -------------------------------------------------------------------


def test_check_in_only_by_staff_of_the_stations_district(clock, graduate, station, staff_1, staff_2, city_staff):
    stay = book(graduate, station, day(1), 2)
    clock.set(day(1), hour=15)
    for outsider in (staff_2, graduate):
        with pytest.raises(PermissionDenied):
            services.stay_check_in(stay=stay, actor=outsider)
    stay.refresh_from_db()
    assert stay.status == StayStatus.BOOKED

    services.stay_check_in(stay=stay, actor=staff_1)
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_IN
    assert stay.checked_in_at == clock.moment
    entry = AuditEntry.objects.filter(object_id=str(stay.pk), to_status="checked_in").get()
    assert entry.actor == staff_1


def test_check_in_only_from_the_arrival_day_to_the_last_night(
    clock, graduate, graduate_2, station, city_staff, staff_1
):
    stay = book(graduate, station, day(1), 2)
    clock.set(day(0), hour=20)
    with pytest.raises(ValidationError, match=f"from {day(1).isoformat()} to the last night {day(2).isoformat()}"):
        services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(3), hour=8)  # the departure day
    with pytest.raises(ValidationError, match="Check-in is possible"):
        services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(2), hour=21)  # late arrival on the last night; city staff serve every district
    services.stay_check_in(stay=stay, actor=city_staff)
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_IN


def test_check_out_opens_the_day_7_and_day_30_follow_ups(clock, graduate, station, staff_1, staff_2):
    clock.set(day(0))
    stay = book(graduate, station, day(1), 2)
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(3), hour=9)
    with pytest.raises(PermissionDenied):
        services.stay_check_out(stay=stay, actor=staff_2)
    with pytest.raises(PermissionDenied):
        services.stay_check_out(stay=stay, actor=graduate)
    services.stay_check_out(stay=stay, actor=staff_1)
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_OUT
    assert stay.checked_out_at == clock.moment
    assert stay.nights_released == 0
    assert {(f.stage, f.due_on) for f in stay.follow_ups.all()} == {
        (FollowUpStage.DAY_7, day(10)),
        (FollowUpStage.DAY_30, day(33)),
    }
    assert not FollowUp.objects.filter(sent_at__isnull=False).exists()
    assert Notification.objects.filter(user=graduate, kind="stay_checked_out").count() == 1
    with pytest.raises(TransitionNotAllowed):
        services.stay_check_out(stay=stay, actor=staff_1)


def test_a_booking_cannot_be_checked_out_without_check_in(clock, graduate, station, staff_1):
    stay = book(graduate, station, day(1), 2)
    clock.set(day(1), hour=15)
    with pytest.raises(TransitionNotAllowed):
        services.stay_check_out(stay=stay, actor=staff_1)


# --- no-shows ---------------------------------------------------------------------------------


def test_the_morning_after_a_missed_check_in_the_stay_is_a_no_show(clock, graduate, graduate_2, station, staff_1):
    stay = book(graduate, station, day(1), 3)
    other = book(graduate_2, station, day(2), 1)  # arrives later: untouched
    clock.set(day(2), hour=6)
    assert services.stays_mark_no_show(today=day(2)) == 1
    stay.refresh_from_db()
    other.refresh_from_db()
    assert stay.status == StayStatus.NO_SHOW
    assert other.status == StayStatus.BOOKED
    # The missed night is gone; the two nights still ahead are free again.
    assert booked(station, day(1), 3) == [1, 1, 0]  # night 2 now holds graduate_2 only
    entry = AuditEntry.objects.filter(object_id=str(stay.pk), to_status="no_show").get()
    assert entry.actor is None
    assert Notification.objects.filter(user=graduate, kind="stay_no_show").count() == 1
    # Idempotent: a second run the same morning changes nothing.
    assert services.stays_mark_no_show(today=day(2)) == 0


def test_a_no_show_forfeits_the_missed_night_by_default(clock, graduate, station):
    stay = book(graduate, station, day(1), 3)
    clock.set(day(2), hour=6)
    services.stays_mark_no_show(today=day(2))
    stay.refresh_from_db()
    assert stay.nights_released == 2
    assert selectors.nights_used(user=graduate) == 1


def test_with_forfeit_off_the_nights_of_a_no_show_come_back(clock, graduate, station):
    set_parameter(c.NO_SHOW_FORFEIT, 0, effective_from=day(0))
    stay = book(graduate, station, day(1), 3)
    clock.set(day(2), hour=6)
    services.stays_mark_no_show(today=day(2))
    stay.refresh_from_db()
    assert stay.status == StayStatus.NO_SHOW
    assert stay.nights_released == 3
    assert selectors.nights_used(user=graduate) == 0


def test_a_no_show_blocks_booking_for_the_configured_days(clock, graduate, station):
    book(graduate, station, day(1), 2)
    clock.set(day(2), hour=6)
    services.stays_mark_no_show(today=day(2))

    until = day(1) + dt.timedelta(days=30)
    clock.set(day(2), hour=10)
    with pytest.raises(ValidationError) as exc:
        book(graduate, station, day(4), 2)
    assert messages(exc) == f"Bookings are blocked until {until.isoformat()} after a missed check-in"

    clock.set(until, hour=8)  # the last blocked day
    with pytest.raises(ValidationError, match="blocked until"):
        book(graduate, station, until + dt.timedelta(days=1), 1)
    clock.set(until + dt.timedelta(days=1), hour=8)
    assert book(graduate, station, until + dt.timedelta(days=2), 1).status == StayStatus.BOOKED


def test_without_a_block_a_no_show_can_book_again_at_once(clock, graduate, station):
    set_parameter(c.NO_SHOW_BLOCK_DAYS, 0, effective_from=day(0))
    book(graduate, station, day(1), 2)
    clock.set(day(2), hour=6)
    services.stays_mark_no_show(today=day(2))
    clock.set(day(2), hour=10)
    assert book(graduate, station, day(4), 2).status == StayStatus.BOOKED


def test_a_checked_in_guest_is_never_a_no_show(clock, graduate, station, staff_1):
    stay = book(graduate, station, day(1), 3)
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=stay, actor=staff_1)
    clock.set(day(2), hour=6)
    assert services.stays_mark_no_show(today=day(2)) == 0
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_IN


# --- "tell me when a bed frees" ---------------------------------------------------------------


@pytest.fixture
def full_station(district_1, graduate):
    """One bed, taken by ``graduate`` on nights 1 and 2."""
    small = make_station(district_1, beds=1, name="一床驿站")
    small.stay = book(graduate, small, day(1), 2)
    return small


def test_a_freed_bed_tells_the_earliest_subscriber_whose_nights_it_covers(
    clock, full_station, graduate, district_1, django_capture_on_commit_callbacks
):
    first, second, elsewhere = (make_graduate(district=district_1) for _ in range(3))
    clock.set(day(0), hour=10)
    services.bed_alert_subscribe(user=elsewhere, station=full_station, start=day(5), end=day(6))
    clock.set(day(0), hour=11)
    services.bed_alert_subscribe(user=first, station=full_station, start=day(2), end=day(4))
    clock.set(day(0), hour=12)
    services.bed_alert_subscribe(user=second, station=full_station, start=day(2), end=day(3))

    with django_capture_on_commit_callbacks(execute=True):
        services.stay_cancel(stay=full_station.stay, actor=graduate)

    told = Notification.objects.filter(kind="bed_freed")
    assert [n.user for n in told] == [first]
    assert day(2).isoformat() in told.get().body
    assert day(1).isoformat() not in told.get().body  # only the nights the subscriber asked for
    assert BedAlert.objects.get(user=first).notified_at is not None
    assert BedAlert.objects.get(user=second).notified_at is None
    assert BedAlert.objects.get(user=elsewhere).notified_at is None
    # ... and by SMS and e-mail once the task's transaction committed.
    told_by_sms = {m["to"] for m in sms.outbox}
    assert first.phone in told_by_sms
    assert second.phone not in told_by_sms


def test_two_freed_beds_tell_two_subscribers_in_order(clock, district_1, django_capture_on_commit_callbacks):
    station = make_station(district_1, beds=2, name="两床驿站")
    guests = [make_graduate(district=district_1) for _ in range(2)]
    stays = [book(g, station, day(1), 1) for g in guests]
    waiting = []
    for minute in range(3):
        user = make_graduate(district=district_1)
        clock.set(day(0), hour=11, minute=minute)
        services.bed_alert_subscribe(user=user, station=station, start=day(1), end=day(1))
        waiting.append(user)

    with django_capture_on_commit_callbacks(execute=True):
        services.stay_cancel(stay=stays[0], actor=guests[0])
    assert list(Notification.objects.filter(kind="bed_freed").values_list("user", flat=True)) == [waiting[0].pk]

    with django_capture_on_commit_callbacks(execute=True):
        services.stay_cancel(stay=stays[1], actor=guests[1])
    assert sorted(Notification.objects.filter(kind="bed_freed").values_list("user", flat=True)) == sorted(
        [waiting[0].pk, waiting[1].pk]
    )
    assert BedAlert.objects.filter(notified_at__isnull=True).get().user == waiting[2]


def test_an_early_check_out_also_tells_subscribers(
    clock, full_station, graduate, staff_1, district_1, django_capture_on_commit_callbacks
):
    waiting = make_graduate(district=district_1)
    services.bed_alert_subscribe(user=waiting, station=full_station, start=day(2), end=day(2))
    clock.set(day(1), hour=15)
    services.stay_check_in(stay=full_station.stay, actor=staff_1)
    clock.set(day(1), hour=20)
    with django_capture_on_commit_callbacks(execute=True):
        services.stay_check_out(stay=full_station.stay, actor=staff_1)
    assert Notification.objects.filter(kind="bed_freed", user=waiting).exists()


def test_no_bed_freed_no_one_told(full_station, district_1):
    waiting = make_graduate(district=district_1)
    services.bed_alert_subscribe(user=waiting, station=full_station, start=day(1), end=day(2))
    assert services.bed_alerts_notify(station_id=full_station.pk, dates=[day(1), day(2)]) == 0
    assert services.bed_alerts_notify(station_id=full_station.pk, dates=[]) == 0
    assert not Notification.objects.filter(kind="bed_freed").exists()


def test_bed_alert_ranges_are_checked(graduate, station):
    with pytest.raises(ValidationError, match="must not be before"):
        services.bed_alert_subscribe(user=graduate, station=station, start=day(3), end=day(2))
    with pytest.raises(ValidationError, match="from today on"):
        services.bed_alert_subscribe(user=graduate, station=station, start=day(-1), end=day(2))
    with pytest.raises(ValidationError, match="at most 30 nights"):
        services.bed_alert_subscribe(user=graduate, station=station, start=day(1), end=day(32))
    assert services.bed_alert_subscribe(user=graduate, station=station, start=day(1), end=day(31)).pk


# --- follow-up visits -------------------------------------------------------------------------


@pytest.fixture
def checked_out(clock, graduate, station, staff_1):
    """A two-night stay checked out on day 3: follow-ups due on days 10 and 33."""
    return stay_through(clock, staff_1, graduate, station, day(1), 2)


def test_the_questionnaire_goes_out_when_due_and_staff_are_asked_to_call_when_unanswered(
    clock, checked_out, graduate, staff_1, staff_2
):
    day7 = checked_out.follow_ups.get(stage=FollowUpStage.DAY_7)
    clock.set(day(9), hour=10)
    assert services.follow_ups_run(today=day(9)) == {}

    clock.set(day(10), hour=7)  # before 08:00 in Luoyang it is still the previous day in UTC
    assert services.follow_ups_run(today=day(10)) == {"sent": 1}
    day7.refresh_from_db()
    assert day7.sent_at == clock.moment
    assert Notification.objects.filter(user=graduate, kind="stay_follow_up").count() == 1
    assert services.follow_ups_run(today=day(10)) == {}  # sent once

    answer_days = 5
    clock.set(day(10 + answer_days - 1), hour=7)
    assert services.follow_ups_run(today=day(10 + answer_days - 1)) == {}
    assert not selectors.follow_up_call_tasks(user=staff_1).exists()

    clock.set(day(10 + answer_days), hour=7)
    assert services.follow_ups_run(today=day(10 + answer_days)) == {"call_tasks": 1}
    assert list(selectors.follow_up_call_tasks(user=staff_1)) == [day7]
    assert not selectors.follow_up_call_tasks(user=staff_2).exists()

    services.follow_up_answer(
        follow_up=day7, actor=staff_1, outcome=FollowUpOutcome.SEARCHING, note="电话回访：仍在找工作"
    )
    day7.refresh_from_db()
    assert (day7.outcome, day7.answered_by, day7.call_task_open) == (FollowUpOutcome.SEARCHING, staff_1, False)
    assert not selectors.follow_up_call_tasks(user=staff_1).exists()


def test_the_answer_days_come_from_the_parameter(clock, checked_out):
    set_parameter(c.FOLLOW_UP_ANSWER_DAYS, 2, effective_from=day(0))
    clock.set(day(10))
    services.follow_ups_run(today=day(10))
    clock.set(day(11))
    assert services.follow_ups_run(today=day(11)) == {}
    clock.set(day(12))
    assert services.follow_ups_run(today=day(12)) == {"call_tasks": 1}


def test_a_hire_recorded_in_the_jobs_programme_answers_the_follow_up(clock, checked_out, graduate):
    from jobs import services as jobs_services
    from tests.jobs.factories import JobApplicationFactory

    clock.set(day(6))
    application = JobApplicationFactory(applicant=graduate, offered=True)
    employer = application.position.organisation.memberships.get().user
    jobs_services.job_application_hire(application=application, actor=employer)

    clock.set(day(10))
    assert services.follow_ups_run(today=day(10)) == {"answered_by_hire": 1}
    day7 = checked_out.follow_ups.get(stage=FollowUpStage.DAY_7)
    assert day7.outcome == FollowUpOutcome.WORKING_IN_LUOYANG
    assert day7.employer == application.position.organisation.name
    assert day7.answered_at is not None
    assert day7.sent_at is None
    assert not Notification.objects.filter(user=graduate, kind="stay_follow_up").exists()
    # The day-30 visit, when due, is answered the same way.
    clock.set(day(33))
    assert services.follow_ups_run(today=day(33)) == {"answered_by_hire": 1}
    assert set(checked_out.follow_ups.values_list("outcome", flat=True)) == {FollowUpOutcome.WORKING_IN_LUOYANG}


def test_a_hire_after_the_questionnaire_went_out_closes_the_call_task(clock, checked_out, graduate):
    from tests.jobs.factories import JobApplicationFactory

    clock.set(day(10))
    services.follow_ups_run(today=day(10))
    clock.set(day(15))
    services.follow_ups_run(today=day(15))
    day7 = checked_out.follow_ups.get(stage=FollowUpStage.DAY_7)
    assert day7.call_task_open

    clock.set(day(16))
    JobApplicationFactory(applicant=graduate, hired=True)
    assert services.follow_ups_run(today=day(16)) == {"answered_by_hire": 1}
    day7.refresh_from_db()
    assert (day7.outcome, day7.call_task_open) == (FollowUpOutcome.WORKING_IN_LUOYANG, False)


def test_an_old_hire_long_before_the_stay_does_not_answer(clock, graduate, station, staff_1):
    from tests.jobs.factories import JobApplicationFactory

    clock.set(day(-200))
    JobApplicationFactory(applicant=graduate, hired=True)
    stay = stay_through(clock, staff_1, graduate, station, day(1), 2)
    clock.set(day(10))
    assert services.follow_ups_run(today=day(10)) == {"sent": 1}
    assert stay.follow_ups.get(stage=FollowUpStage.DAY_7).outcome == ""


def test_who_may_answer_a_follow_up(checked_out, graduate, graduate_2, staff_1, staff_2, city_staff):
    day7, day30 = checked_out.follow_ups.order_by("due_on")
    for outsider in (graduate_2, staff_2):
        with pytest.raises(PermissionDenied):
            services.follow_up_answer(follow_up=day7, actor=outsider, outcome=FollowUpOutcome.SEARCHING)
    with pytest.raises(ValidationError, match="Choose one of the answers"):
        services.follow_up_answer(follow_up=day7, actor=graduate, outcome="maybe")

    row = services.follow_up_answer(
        follow_up=day7, actor=graduate, outcome=FollowUpOutcome.WORKING_IN_LUOYANG, employer="  中信重工  "
    )
    assert (row.outcome, row.employer, row.answered_by) == (FollowUpOutcome.WORKING_IN_LUOYANG, "中信重工", graduate)
    assert (
        services.follow_up_answer(follow_up=day30, actor=staff_1, outcome=FollowUpOutcome.LEFT_LUOYANG).answered_by
        == staff_1
    )
    assert (
        services.follow_up_answer(follow_up=day30, actor=city_staff, outcome=FollowUpOutcome.SEARCHING).outcome
        == "searching"
    )
    assert AuditEntry.objects.filter(object_id=str(checked_out.pk), action=AuditAction.DECISION).count() == 3


def test_an_answered_follow_up_is_not_sent_or_called(clock, checked_out, graduate):
    day7 = checked_out.follow_ups.get(stage=FollowUpStage.DAY_7)
    services.follow_up_answer(follow_up=day7, actor=graduate, outcome=FollowUpOutcome.SEARCHING)
    clock.set(day(20))
    assert services.follow_ups_run(today=day(20)) == {}
    assert not Notification.objects.filter(kind="stay_follow_up").exists()


# --- job suggestions to residents -------------------------------------------------------------


@pytest.fixture
def residents(clock, district_1, staff_1):
    """Four graduates at a five-bed station: three checked in (one of them a junior-college
    graduate), one only booked."""
    big = make_station(district_1, beds=5, name="五床驿站")
    people = {
        "pushed": make_graduate(district=district_1),
        "opted_out": make_graduate(district=district_1),
        "junior": make_graduate(district=district_1, education_level=EducationLevel.JUNIOR_COLLEGE),
        "not_arrived": make_graduate(district=district_1),
    }
    stays = {name: book(user, big, day(3) if name == "not_arrived" else day(1), 4) for name, user in people.items()}
    clock.set(day(1), hour=15)
    for name in ("pushed", "opted_out", "junior"):
        services.stay_check_in(stay=stays[name], actor=staff_1)
    services.stay_set_job_push(stay=stays["opted_out"], actor=people["opted_out"], enabled=False)
    return people


def test_residents_get_new_matching_positions_each_morning(clock, residents):
    from tests.jobs.factories import PositionFactory

    clock.set(day(-3))
    PositionFactory(published=True, published_at=clock.moment, title="旧岗位", deadline=day(40))
    clock.set(day(1), hour=16)
    PositionFactory(
        published=True,
        published_at=clock.moment,
        title="轴承设计工程师",
        education_level=EducationLevel.BACHELOR,
        majors="机械工程",
    )
    PositionFactory(
        published=True,
        published_at=clock.moment,
        title="博士后研究员",
        education_level=EducationLevel.DOCTOR,
        majors="",
    )
    PositionFactory(
        published=True,
        published_at=clock.moment,
        title="会计",
        education_level=EducationLevel.BACHELOR,
        majors="会计学",
    )
    PositionFactory(title="草稿岗位", majors="")

    clock.set(day(2), hour=8, minute=30)
    assert services.residents_job_push(today=day(2)) == 1
    assert services.residents_job_push(today=day(2)) == 0  # a re-run sends nothing twice
    pushed = Notification.objects.get(kind="station_jobs")
    assert pushed.user == residents["pushed"]
    assert "轴承设计工程师" in pushed.body
    for absent in ("旧岗位", "博士后研究员", "会计", "草稿岗位"):
        assert absent not in pushed.body


def test_the_junior_college_resident_gets_what_needs_no_degree(clock, residents):
    from tests.jobs.factories import PositionFactory

    clock.set(day(1), hour=16)
    PositionFactory(
        published=True,
        published_at=clock.moment,
        title="数控操作工",
        education_level=EducationLevel.JUNIOR_COLLEGE,
        majors="",
    )
    clock.set(day(2), hour=8, minute=30)
    assert services.residents_job_push(today=day(2), batch_size=1) == 2
    assert set(Notification.objects.filter(kind="station_jobs").values_list("user", flat=True)) == {
        residents["pushed"].pk,
        residents["junior"].pk,
    }


def test_each_new_position_is_suggested_once_the_morning_after(clock, residents):
    from tests.jobs.factories import PositionFactory

    clock.set(day(1), hour=16)
    PositionFactory(published=True, published_at=clock.moment, title="昨天下午的岗位", majors="")
    clock.set(day(2), hour=7)  # before the 08:30 push
    PositionFactory(published=True, published_at=clock.moment, title="今天一早的岗位", majors="")

    clock.set(day(2), hour=8, minute=30)
    assert services.residents_job_push(today=day(2)) == 1
    clock.set(day(3), hour=8, minute=30)
    assert services.residents_job_push(today=day(3)) == 1
    first, second = Notification.objects.filter(kind="station_jobs", user=residents["pushed"]).order_by("created_at")
    assert ("昨天下午的岗位" in first.body, "今天一早的岗位" in first.body) == (True, False)
    assert ("昨天下午的岗位" in second.body, "今天一早的岗位" in second.body) == (False, True)


def test_no_new_positions_no_push(clock, residents):
    assert services.residents_job_push(today=day(2)) == 0
    assert not Notification.objects.filter(kind="station_jobs").exists()


def test_only_the_resident_turns_the_push_off(clock, graduate, graduate_2, station):
    stay = book(graduate, station, day(1), 2)
    with pytest.raises(PermissionDenied):
        services.stay_set_job_push(stay=stay, actor=graduate_2, enabled=False)
    services.stay_set_job_push(stay=stay, actor=graduate, enabled=False)
    stay.refresh_from_db()
    assert stay.job_push is False


# --- notifications ----------------------------------------------------------------------------


def test_the_booking_is_in_the_inbox_at_once_and_sent_by_sms_and_email_after_commit(
    graduate, station, mailoutbox, django_capture_on_commit_callbacks
):
    document = letter(graduate)
    with django_capture_on_commit_callbacks() as callbacks:
        book(graduate, station, day(1), 2, invitation_document=document)
    notification = Notification.objects.get(user=graduate, kind="stay_booked")
    assert station.name in notification.title
    assert day(1).isoformat() in notification.body
    assert notification.link == "/stays/"
    assert sorted(Delivery.objects.filter(notification=notification).values_list("channel", flat=True)) == [
        "email",
        "sms",
    ]
    assert mailoutbox == []
    assert sms.outbox == []

    for callback in callbacks:
        callback()
    assert [m.to for m in mailoutbox] == [[graduate.email]]
    assert [m["to"] for m in sms.outbox] == [graduate.phone]


def test_a_refused_booking_sends_nothing(graduate, station, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ValidationError):
        services.stay_book(applicant=graduate, station=station, check_in=day(1), nights=2)
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mailoutbox == []


def test_the_cancellation_is_notified(graduate, station, mailoutbox, django_capture_on_commit_callbacks):
    stay = book(graduate, station, day(1), 2)
    with django_capture_on_commit_callbacks(execute=True):
        services.stay_cancel(stay=stay, actor=graduate, reason="找到工作了")
    cancelled = Notification.objects.get(user=graduate, kind="stay_cancelled")
    assert "找到工作了" in cancelled.body
    assert len(mailoutbox) == 1
    assert [m["to"] for m in sms.outbox] == [graduate.phone]


def test_a_missed_arrival_cannot_be_cancelled_by_the_guest(clock, graduate, station, staff_1):
    stay = book(graduate, station, day(1), 3)
    clock.set(day(2))  # the check-in day has passed without a check-in
    with pytest.raises(ValidationError, match="check-in day has passed"):
        services.stay_cancel(stay=stay, actor=graduate)
    # The morning job makes it a no-show, with the no-show rules.
    assert services.stays_mark_no_show(today=day(2)) == 1
    stay.refresh_from_db()
    assert stay.status == StayStatus.NO_SHOW


def test_follow_ups_run_twice_sends_each_questionnaire_once(clock, graduate, station, staff_1):
    stay = stay_through(clock, staff_1, graduate, station, day(1), 2)
    due = stay.follow_ups.get(stage=FollowUpStage.DAY_7).due_on
    clock.set(due)
    first = services.follow_ups_run(today=due)
    second = services.follow_ups_run(today=due)
    assert first.get("sent") == 1 and not second.get("sent")
    assert Notification.objects.filter(user=graduate, kind="stay_follow_up").count() == 1
