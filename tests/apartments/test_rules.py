"""Who may book a youth station: each criterion at its boundary, with hand-built facts and
parameters (no database)."""

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from apartments.rules import StationFacts, StationParams, station_eligibility

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 5, 11, 10, 0, tzinfo=TZ)
TODAY = NOW.date()
CHECK_IN = TODAY + dt.timedelta(days=3)

PARAMS = StationParams(max_nights=15, graduation_years=2, booking_min_hours=2)
FACTS = StationFacts(
    outside_luoyang=True,
    graduation_date=dt.date(2025, 12, 31),
    has_interview=False,
    has_invitation_letter=True,
    nights_used=0,
    has_active_stay=False,
    blocked_until=None,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def check(*, facts=None, params=PARAMS, check_in=CHECK_IN, nights=3, now=NOW, **changes):
    facts = dataclasses.replace(facts or FACTS, **changes)
    return station_eligibility(facts=facts, params=params, check_in=check_in, nights=nights, now=now)


def criterion(result, code):
    found = [c for c in result.criteria if c.code == code]
    assert len(found) == 1, [c.code for c in result.criteria]
    return found[0]


def test_an_eligible_graduate_passes_every_criterion():
    result = check()
    assert result.eligible
    assert [c.code for c in result.criteria] == [
        "hukou",
        "graduation",
        "reason",
        "nights",
        "one_active_stay",
        "advance",
    ]


def test_the_parameters_in_force_are_recorded_with_the_result():
    result = check(
        params=StationParams(max_nights=12, graduation_years=3, booking_min_hours=24),
        check_in=TODAY + dt.timedelta(days=5),
    )
    assert result.parameters == {
        "max_nights": 12,
        "graduation_years": 3,
        "booking_min_hours": 24,
        "evaluated_at": NOW.isoformat(),
    }
    assert result.as_dict()["parameters"]["max_nights"] == 12


# --- household registration -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outside", "passed", "words"),
    [
        (True, True, "outside Luoyang"),
        (False, False, "in Luoyang"),
        (None, False, "not filled in"),
    ],
)
def test_household_registration(outside, passed, words):
    result = check(outside_luoyang=outside)
    hukou = criterion(result, "hukou")
    assert hukou.passed is passed
    assert result.eligible is passed
    assert words in hukou.message


# --- graduation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "today",
    [
        dt.date(2026, 5, 11),
        dt.date(2024, 3, 1),  # the two years before include 29 February 2024
        dt.date(2025, 1, 15),
    ],
)
def test_graduated_exactly_the_configured_years_ago_passes_and_a_day_more_fails(today):
    now = dt.datetime.combine(today, dt.time(8), tzinfo=TZ)
    exactly = today.replace(year=today.year - 2)
    ok = criterion(check(graduation_date=exactly, now=now, check_in=today + dt.timedelta(days=1)), "graduation")
    assert ok.passed, ok.message
    assert ok.message == f"Graduation: {exactly:%Y-%m}, within 2 years"

    late = criterion(
        check(graduation_date=exactly - dt.timedelta(days=1), now=now, check_in=today + dt.timedelta(days=1)),
        "graduation",
    )
    assert not late.passed
    assert late.message == f"Graduation: {exactly - dt.timedelta(days=1):%Y-%m}, more than 2 years ago"


def test_the_graduation_years_come_from_the_parameter():
    four_years_ago = TODAY.replace(year=TODAY.year - 4)
    assert not criterion(check(graduation_date=four_years_ago), "graduation").passed
    longer = StationParams(max_nights=15, graduation_years=4, booking_min_hours=2)
    result = check(graduation_date=four_years_ago, params=longer)
    assert criterion(result, "graduation").passed
    assert "within 4 years" in criterion(result, "graduation").message


def test_graduating_today_counts_as_graduated():
    assert criterion(check(graduation_date=TODAY), "graduation").passed


@pytest.mark.parametrize(
    ("graduation", "passed", "words"),
    [
        (dt.date(2027, 4, 11), True, "2027-04, within one year"),  # in 11 months
        (dt.date(2027, 5, 11), True, "2027-05, within one year"),  # in exactly one year
        (dt.date(2027, 5, 12), False, "2027-05, more than one year away"),  # one year and a day
        (dt.date(2027, 6, 11), False, "2027-06, more than one year away"),  # in 13 months
    ],
)
def test_graduating_within_one_year(graduation, passed, words):
    result = check(graduation_date=graduation)
    assert criterion(result, "graduation").passed is passed
    assert words in criterion(result, "graduation").message


def test_graduating_in_exactly_one_year_across_a_leap_day():
    now = dt.datetime(2027, 3, 1, 8, tzinfo=TZ)  # the year ahead includes 29 February 2028
    result = check(graduation_date=dt.date(2028, 3, 1), now=now, check_in=dt.date(2027, 3, 2))
    assert criterion(result, "graduation").passed


def test_no_graduation_date():
    result = check(graduation_date=None)
    assert not criterion(result, "graduation").passed
    assert "not filled in" in criterion(result, "graduation").message


# --- reason: job search -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interview", "letter", "passed", "words"),
    [
        (True, False, True, "interview invitation in the jobs programme"),
        (True, True, True, "interview invitation in the jobs programme"),
        (False, True, True, "uploaded invitation or offer letter"),
        (False, False, False, "no interview invitation yet"),
    ],
)
def test_job_search_reason(interview, letter, passed, words):
    result = check(has_interview=interview, has_invitation_letter=letter)
    assert criterion(result, "reason").passed is passed
    assert result.eligible is passed
    assert words in criterion(result, "reason").message


# --- free nights ------------------------------------------------------------------------------


def test_booking_exactly_the_nights_left_passes_and_one_more_fails():
    exactly = check(nights_used=11, nights=4)
    assert criterion(exactly, "nights").passed
    assert criterion(exactly, "nights").message == "Free nights: 4 asked, 4 of 15 left"

    one_more = check(nights_used=11, nights=5)
    assert not criterion(one_more, "nights").passed
    assert not one_more.eligible
    assert criterion(one_more, "nights").message == "Free nights: 5 asked, 4 of 15 left"


def test_a_whole_allowance_in_one_stay_and_nothing_left_after_it():
    assert criterion(check(nights=15), "nights").passed
    assert not criterion(check(nights=16), "nights").passed
    spent = check(nights_used=15, nights=1)
    assert not criterion(spent, "nights").passed
    assert criterion(spent, "nights").message == "Free nights: 1 asked, 0 of 15 left"


def test_more_nights_used_than_the_allowance_never_shows_a_negative_remainder():
    # e.g. the allowance was lowered after the graduate used it.
    result = check(
        nights_used=16, nights=1, params=StationParams(max_nights=10, graduation_years=2, booking_min_hours=2)
    )
    assert criterion(result, "nights").message == "Free nights: 1 asked, 0 of 10 left"


# --- one stay at a time, no-show block --------------------------------------------------------


def test_an_active_stay_refuses_another():
    result = check(has_active_stay=True)
    assert not criterion(result, "one_active_stay").passed
    assert "already have a booking" in criterion(result, "one_active_stay").message


def test_blocked_until_today_refuses_and_naming_the_date():
    result = check(blocked_until=TODAY)
    assert not result.eligible
    blocked = criterion(result, "not_blocked")
    assert not blocked.passed
    assert blocked.message == f"Bookings are blocked until {TODAY.isoformat()} after a missed check-in"


def test_blocked_until_yesterday_no_longer_refuses():
    result = check(blocked_until=TODAY - dt.timedelta(days=1))
    assert result.eligible
    assert not [c for c in result.criteria if c.code == "not_blocked"]


# --- booking lead time ------------------------------------------------------------------------


def test_booked_exactly_the_lead_time_before_check_in_at_two_pm_passes():
    check_in = TODAY + dt.timedelta(days=1)
    now = dt.datetime.combine(check_in, dt.time(12, 0), tzinfo=TZ)  # 2 hours before 14:00
    result = check(check_in=check_in, now=now)
    assert criterion(result, "advance").passed
    assert criterion(result, "advance").message == "Booked at least 2 hours before check-in at 14:00"


def test_booked_a_minute_inside_the_lead_time_fails():
    check_in = TODAY + dt.timedelta(days=1)
    now = dt.datetime.combine(check_in, dt.time(12, 1), tzinfo=TZ)  # 1 h 59 min before 14:00
    result = check(check_in=check_in, now=now)
    assert not criterion(result, "advance").passed
    assert not result.eligible
    assert criterion(result, "advance").message == "Too late: book at least 2 hours before check-in at 14:00"


def test_the_lead_time_comes_from_the_parameter():
    params = StationParams(max_nights=15, graduation_years=2, booking_min_hours=24)
    check_in = TODAY + dt.timedelta(days=1)
    assert criterion(
        check(params=params, check_in=check_in, now=dt.datetime.combine(TODAY, dt.time(14), tzinfo=TZ)), "advance"
    ).passed
    late = check(params=params, check_in=check_in, now=dt.datetime.combine(TODAY, dt.time(14, 1), tzinfo=TZ))
    assert not criterion(late, "advance").passed
    assert "24 hours" in criterion(late, "advance").message


def test_a_check_in_day_in_the_past_is_refused():
    assert not criterion(check(check_in=TODAY - dt.timedelta(days=1)), "advance").passed


def test_the_lead_time_is_counted_in_local_time_whatever_zone_now_is_given_in():
    check_in = TODAY + dt.timedelta(days=1)
    # 12:00 in Luoyang is 04:00 UTC: exactly two hours before check-in.
    now_utc = dt.datetime.combine(check_in, dt.time(12, 0), tzinfo=TZ).astimezone(dt.UTC)
    assert criterion(check(check_in=check_in, now=now_utc), "advance").passed
    late_utc = dt.datetime.combine(check_in, dt.time(12, 1), tzinfo=TZ).astimezone(dt.UTC)
    assert not criterion(check(check_in=check_in, now=late_utc), "advance").passed


def test_every_failure_is_reported_at_once():
    result = check(
        outside_luoyang=False,
        graduation_date=dt.date(2020, 1, 1),
        has_invitation_letter=False,
        nights_used=15,
        has_active_stay=True,
        blocked_until=CHECK_IN,
        now=dt.datetime.combine(CHECK_IN, dt.time(13), tzinfo=TZ),
    )
    assert {c.code for c in result.failures} == {
        "hukou",
        "graduation",
        "reason",
        "nights",
        "one_active_stay",
        "not_blocked",
        "advance",
    }
