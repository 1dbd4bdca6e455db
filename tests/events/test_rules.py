"""Who may register (events/rules.py): the age on the event day from the profile's birth
date, graduates only, the registration window, published events, one registration per
person. The rule is a pure function; a few tests go through the service so the facts come
from real profiles and the event's local day."""

from __future__ import annotations

import datetime as dt

import pytest

from events import services
from events.rules import EventTerms, ParticipantFacts, age_on, can_register
from tests.events.conftest import LOCAL
from tests.events.factories import EventFactory, RegistrationFactory
from tests.portal.factories import ProfileFactory, UserFactory, make_id_number

pytestmark = pytest.mark.usefixtures("english")

EVENT_DAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 5, 20, 12, 0, tzinfo=LOCAL)


def terms(**overrides) -> EventTerms:
    values = {
        "published": True,
        "registration_opens": dt.datetime(2026, 5, 10, 9, 0, tzinfo=LOCAL),
        "registration_closes": dt.datetime(2026, 5, 30, 18, 0, tzinfo=LOCAL),
        "starts_on": EVENT_DAY,
        "min_age": 18,
        "max_age": 35,
        "graduates_only": False,
    }
    values.update(overrides)
    return EventTerms(**values)


def facts(**overrides) -> ParticipantFacts:
    values = {"birth_date": dt.date(2000, 3, 15), "is_graduate": True, "has_open_registration": False}
    values.update(overrides)
    return ParticipantFacts(**values)


def criterion(result, code: str):
    [found] = [c for c in result.criteria if c.code == code]
    return found


def test_a_graduate_in_the_age_range_inside_the_window_may_register():
    result = can_register(facts=facts(), terms=terms(), now=NOW)
    assert result.eligible
    assert [c.code for c in result.criteria] == ["published", "window", "age", "once"]
    assert result.parameters == {"min_age": 18, "max_age": 35, "graduates_only": False}


@pytest.mark.parametrize(
    ("born", "age", "eligible"),
    [
        (dt.date(2008, 6, 1), 18, True),  # the 18th birthday is the event day
        (dt.date(2008, 6, 2), 17, False),  # turns 18 the day after
        (dt.date(1990, 6, 2), 35, True),  # turns 36 the day after
        (dt.date(1990, 6, 1), 36, False),  # the 36th birthday is the event day
        (dt.date(1990, 5, 31), 36, False),  # the 36th birthday the day before
    ],
    ids=["18-on-the-day", "17-the-day-before-18", "35-the-day-before-36", "36-on-the-day", "36-the-day-before"],
)
def test_the_age_counts_on_the_event_day(born, age, eligible):
    result = can_register(facts=facts(birth_date=born), terms=terms(), now=NOW)
    assert result.eligible is eligible
    age_line = criterion(result, "age")
    assert age_line.passed is eligible
    assert age_line.message == f"Age on the day: {age}, allowed 18–35"


def test_a_leap_day_birthday_comes_on_the_first_of_march_in_other_years():
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 2, 28)) == 17
    assert age_on(dt.date(2008, 2, 29), dt.date(2026, 3, 1)) == 18
    assert age_on(dt.date(2008, 2, 29), dt.date(2028, 2, 29)) == 20


def test_only_a_minimum_or_only_a_maximum_age():
    only_min = can_register(facts=facts(birth_date=dt.date(1950, 1, 1)), terms=terms(max_age=None), now=NOW)
    assert only_min.eligible
    only_max = can_register(facts=facts(birth_date=dt.date(2010, 1, 1)), terms=terms(min_age=None, max_age=35), now=NOW)
    assert only_max.eligible
    too_old = can_register(facts=facts(birth_date=dt.date(1980, 1, 1)), terms=terms(min_age=None, max_age=35), now=NOW)
    assert criterion(too_old, "age").message == "Age on the day: 46, allowed 0–35"


def test_without_a_birth_date_an_age_limited_event_asks_for_the_id_number():
    result = can_register(facts=facts(birth_date=None), terms=terms(), now=NOW)
    assert not result.eligible
    line = criterion(result, "age")
    assert not line.passed
    assert line.message == "Age: 18–35; add your ID number to your profile"


def test_without_an_age_limit_the_birth_date_is_not_needed():
    result = can_register(facts=facts(birth_date=None), terms=terms(min_age=None, max_age=None), now=NOW)
    assert result.eligible
    assert "age" not in [c.code for c in result.criteria]


def test_graduates_only():
    refused = can_register(facts=facts(is_graduate=False), terms=terms(graduates_only=True), now=NOW)
    assert not refused.eligible
    assert (
        criterion(refused, "graduate").message
        == "For graduates: add your education and graduation date to your profile"
    )
    allowed = can_register(facts=facts(is_graduate=True), terms=terms(graduates_only=True), now=NOW)
    assert allowed.eligible
    open_to_all = can_register(facts=facts(is_graduate=False), terms=terms(), now=NOW)
    assert open_to_all.eligible and "graduate" not in [c.code for c in open_to_all.criteria]


@pytest.mark.parametrize(
    ("now", "passed", "message"),
    [
        (dt.datetime(2026, 5, 10, 8, 59, tzinfo=LOCAL), False, "Registration opens on 2026-05-10 09:00"),
        (dt.datetime(2026, 5, 10, 9, 0, tzinfo=LOCAL), True, "Registration is open until 2026-05-30 18:00"),
        (dt.datetime(2026, 5, 30, 17, 59, tzinfo=LOCAL), True, "Registration is open until 2026-05-30 18:00"),
        (dt.datetime(2026, 5, 30, 18, 0, tzinfo=LOCAL), False, "Registration closed on 2026-05-30 18:00"),
    ],
    ids=["a-minute-before-it-opens", "as-it-opens", "a-minute-before-it-closes", "as-it-closes"],
)
def test_the_registration_window(now, passed, message):
    result = can_register(facts=facts(), terms=terms(), now=now)
    assert result.eligible is passed
    line = criterion(result, "window")
    assert (line.passed, line.message) == (passed, message)


def test_an_unpublished_event_is_not_open():
    result = can_register(facts=facts(), terms=terms(published=False), now=NOW)
    assert not result.eligible
    assert criterion(result, "published").message == "The event is not open for registration"


def test_one_open_registration_per_person():
    result = can_register(facts=facts(has_open_registration=True), terms=terms(), now=NOW)
    assert not result.eligible
    assert criterion(result, "once").message == "You are already registered"


def test_every_failure_is_listed_at_once():
    result = can_register(
        facts=facts(birth_date=dt.date(2010, 1, 1), is_graduate=False, has_open_registration=True),
        terms=terms(published=False, graduates_only=True),
        now=dt.datetime(2026, 5, 31, tzinfo=LOCAL),
    )
    assert [c.code for c in result.failures] == ["published", "window", "age", "graduate", "once"]


# --- through the service: facts from real profiles -------------------------------------------


def graduate_born(born: dt.date, **profile):
    return ProfileFactory(complete=True, id_number=make_id_number(born), **profile).user


@pytest.mark.django_db
def test_the_birth_date_comes_from_the_id_number_and_the_day_is_the_local_event_day(clock):
    """Half past midnight in Luoyang on 1 June is still 31 May in UTC: the person whose
    18th birthday is 1 June may come."""
    clock.set(NOW)
    starts = dt.datetime(2026, 6, 1, 0, 30, tzinfo=LOCAL)
    event = EventFactory(
        published=True, min_age=18, max_age=35, starts_at=starts, registration_closes=starts - dt.timedelta(hours=1)
    )
    event.refresh_from_db()  # as the services see it: read back from the database in UTC
    turning_18 = graduate_born(dt.date(2008, 6, 1))
    turning_18_tomorrow = graduate_born(dt.date(2008, 6, 2))

    assert services.registration_eligibility(user=turning_18, event=event).eligible
    refused = services.registration_eligibility(user=turning_18_tomorrow, event=event)
    assert criterion(refused, "age").message == "Age on the day: 17, allowed 18–35"


@pytest.mark.django_db
def test_the_window_is_told_in_local_time(clock):
    opens = dt.datetime(2026, 6, 2, 9, 0, tzinfo=LOCAL)
    event = EventFactory(published=True, registration_opens=opens, registration_closes=opens + dt.timedelta(days=1))
    event.refresh_from_db()
    result = services.registration_eligibility(user=graduate_born(dt.date(2000, 1, 1)), event=event)
    assert criterion(result, "window").message == "Registration opens on 2026-06-02 09:00"


@pytest.mark.django_db
def test_a_profile_without_an_id_number_or_education(clock):
    event = EventFactory(published=True, min_age=18, max_age=35, graduates_only=True)
    bare = ProfileFactory().user  # no ID number, no education
    result = services.registration_eligibility(user=bare, event=event)
    assert {c.code for c in result.failures} == {"age", "graduate"}
    no_profile = UserFactory()
    assert {c.code for c in services.registration_eligibility(user=no_profile, event=event).failures} == {
        "age",
        "graduate",
    }


@pytest.mark.django_db
def test_an_open_registration_blocks_a_second_one_but_a_cancelled_one_does_not(clock, graduate_a):
    event = EventFactory(published=True)
    registration = RegistrationFactory(event=event, user=graduate_a, waitlisted=True)
    assert criterion(services.registration_eligibility(user=graduate_a, event=event), "once").passed is False
    registration.status = "cancelled"
    registration.save()
    assert services.registration_eligibility(user=graduate_a, event=event).eligible
