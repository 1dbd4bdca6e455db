"""Who may apply for a talent apartment or an affordable rental, which group and list they
fall in, and what a lease grants: each criterion at its boundary with hand-built facts and
parameters (no database), then the dated parameter rows read through the selectors."""

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from apartments import selectors
from apartments.constants import (
    HOUSING_AFFORDABLE_RENT_FREE_MONTHS,
    HOUSING_GRADUATION_YEARS,
    HOUSING_LEASE_MONTHS,
    HOUSING_REDUCED_RENT_PERCENT,
    HOUSING_TALENT_RENT_FREE_MONTHS,
    ApplicantList,
    PriorityBucket,
    ProjectKind,
)
from apartments.rules.housing import (
    HousingFacts,
    HousingParams,
    LeaseParams,
    applicant_list_for,
    bucket_for,
    housing_eligibility,
    lease_terms,
)
from portal.constants import EducationLevel
from tests.apartments.conftest import set_parameter

TALENT = ProjectKind.TALENT_APARTMENT
AFFORDABLE = ProjectKind.AFFORDABLE_RENTAL
TODAY = dt.date(2026, 5, 11)
PARAMS = HousingParams(graduation_years=3)
FACTS = HousingFacts(
    profile_missing=(),
    education_level=EducationLevel.BACHELOR,
    graduation_date=dt.date(2025, 6, 30),
    outside_luoyang=True,
    works_in_luoyang=True,
    no_home_declared=True,
    has_active_lease=False,
)
LEASE_PARAMS = LeaseParams(
    lease_months=12, talent_rent_free_months=36, affordable_rent_free_months=3, reduced_rent_percent=50
)
ORDER = ["out_of_town", "postgraduate", "bachelor", "technician"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def check(kind=TALENT, *, params=PARAMS, today=TODAY, **changes):
    return housing_eligibility(kind=kind, facts=dataclasses.replace(FACTS, **changes), params=params, today=today)


def criterion(result, code):
    found = [c for c in result.criteria if c.code == code]
    assert len(found) == 1, [c.code for c in result.criteria]
    return found[0]


def test_an_eligible_graduate_passes_every_criterion_of_each_kind():
    talent = check(TALENT)
    assert talent.eligible
    assert [c.code for c in talent.criteria] == ["profile", "education", "no_active_lease"]
    affordable = check(AFFORDABLE)
    assert affordable.eligible
    assert [c.code for c in affordable.criteria] == [
        "profile",
        "graduation",
        "works_in_luoyang",
        "no_home",
        "no_active_lease",
    ]
    assert all(c.passed for c in affordable.criteria)


def test_the_parameters_and_the_day_are_recorded_with_the_result():
    result = check(AFFORDABLE, params=HousingParams(graduation_years=5))
    assert result.parameters == {"graduation_years": 5, "evaluated_on": "2026-05-11"}
    stored = result.as_dict()
    assert stored["parameters"]["graduation_years"] == 5
    assert stored["eligible"] is True
    assert {c["code"]: c["blocking"] for c in stored["criteria"]}["graduation"] is False


# --- education (talent apartments) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "passed"),
    [
        (EducationLevel.JUNIOR_COLLEGE, False),
        (EducationLevel.PREP_TECHNICIAN, True),
        (EducationLevel.TECHNICIAN, True),
        (EducationLevel.BACHELOR, True),
        (EducationLevel.MASTER, True),
        (EducationLevel.DOCTOR, True),
    ],
)
def test_talent_apartments_need_a_bachelors_degree_or_a_technician_title(level, passed):
    result = check(TALENT, education_level=level)
    line = criterion(result, "education")
    assert line.passed is passed
    assert result.eligible is passed
    assert str(EducationLevel(level).label) in line.message
    if not passed:
        assert [c.code for c in result.failures] == ["education"]
        assert "a bachelor's degree or above, or preparatory technician or technician, is required" in line.message


def test_a_talent_applicant_without_an_education_level_is_told_to_fill_it_in():
    result = check(TALENT, education_level="", profile_missing=("Education level",))
    assert not result.eligible
    assert criterion(result, "education").message == "Education: not filled in your profile"
    assert {c.code for c in result.failures} == {"profile", "education"}


def test_affordable_rentals_ask_no_education_level():
    result = check(AFFORDABLE, education_level=EducationLevel.JUNIOR_COLLEGE)
    assert result.eligible
    assert "education" not in [c.code for c in result.criteria]


# --- the profile ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [TALENT, AFFORDABLE])
def test_missing_profile_fields_are_named_and_block(kind):
    result = check(kind, profile_missing=("ID number", "Degree certificate (upload)"))
    line = criterion(result, "profile")
    assert not line.passed and line.blocking
    assert line.message == "Profile: still missing ID number、Degree certificate (upload)"
    assert [c.code for c in result.failures] == ["profile"]


# --- graduation (affordable rentals: which list, never a refusal) --------------------------------


@pytest.mark.parametrize(
    ("graduated", "today", "within", "years"),
    [
        (dt.date(2023, 5, 11), TODAY, True, 3),  # exactly 3 years ago: still within
        (dt.date(2023, 5, 10), TODAY, False, 3),  # 3 years and a day: general list
        (dt.date(2023, 5, 12), TODAY, True, 2),
        (TODAY, TODAY, True, 0),  # graduated today
        # Leap day today: three years back is 28 February (no 29th in 2025).
        (dt.date(2025, 2, 28), dt.date(2028, 2, 29), True, 3),
        (dt.date(2025, 2, 27), dt.date(2028, 2, 29), False, 3),
        # Graduated on a leap day: the third anniversary falls on 28 February.
        (dt.date(2024, 2, 29), dt.date(2027, 2, 28), True, 3),
        (dt.date(2024, 2, 29), dt.date(2027, 3, 1), False, 3),
        (dt.date(2024, 2, 29), dt.date(2027, 2, 27), True, 2),
    ],
)
def test_the_graduate_list_takes_graduates_of_the_last_n_years_to_the_day(graduated, today, within, years):
    result = check(AFFORDABLE, graduation_date=graduated, today=today)
    line = criterion(result, "graduation")
    assert line.passed is within
    assert line.blocking is False
    assert result.eligible  # the other list is still open to them
    if within:
        assert line.message == f"Years since graduation: {years}, within 3 (graduate list)"
    else:
        assert line.message == f"Years since graduation: {years}, more than 3 (general list)"
    assert applicant_list_for(kind=AFFORDABLE, result=result) == (
        ApplicantList.GRADUATE if within else ApplicantList.GENERAL
    )


def test_the_number_of_years_is_the_parameter():
    graduated = dt.date(2021, 5, 11)  # five years ago
    assert not criterion(check(AFFORDABLE, graduation_date=graduated), "graduation").passed
    result = check(AFFORDABLE, graduation_date=graduated, params=HousingParams(graduation_years=5))
    assert criterion(result, "graduation").passed
    assert criterion(result, "graduation").message == "Years since graduation: 5, within 5 (graduate list)"


def test_a_future_or_missing_graduation_date_puts_the_applicant_on_the_general_list():
    future = check(AFFORDABLE, graduation_date=dt.date(2026, 6, 30))
    line = criterion(future, "graduation")
    assert not line.passed and not line.blocking
    assert line.message == "Graduation: 2026-06, not graduated yet (general list)"
    assert future.eligible
    assert applicant_list_for(kind=AFFORDABLE, result=future) == ApplicantList.GENERAL

    missing = check(AFFORDABLE, graduation_date=None)
    assert criterion(missing, "graduation").message == "Graduation date: not filled in your profile"
    assert missing.eligible
    assert applicant_list_for(kind=AFFORDABLE, result=missing) == ApplicantList.GENERAL


def test_talent_apartments_have_one_list_whatever_the_graduation_date():
    result = check(TALENT, graduation_date=dt.date(2010, 6, 30))
    assert result.eligible
    assert "graduation" not in [c.code for c in result.criteria]
    assert applicant_list_for(kind=TALENT, result=result) == ApplicantList.GRADUATE


# --- work, home, lease ------------------------------------------------------------------------


def test_affordable_rentals_need_work_or_a_business_in_luoyang():
    result = check(AFFORDABLE, works_in_luoyang=False)
    assert not result.eligible
    assert [c.code for c in result.failures] == ["works_in_luoyang"]
    assert criterion(result, "works_in_luoyang").message == (
        "Work: your profile does not say you work or run a business in Luoyang"
    )
    assert criterion(check(AFFORDABLE), "works_in_luoyang").message == "Work: working or running a business in Luoyang"
    # Talent apartments do not ask.
    assert check(TALENT, works_in_luoyang=False).eligible


@pytest.mark.parametrize(
    ("declared", "passed", "message"),
    [
        (True, True, "Home ownership: declared owning no home in Luoyang"),
        (False, False, "Home ownership: the declaration of owning no home in Luoyang is not signed"),
        # The live preview before the form: the declaration is signed when applying.
        (None, True, "Home ownership: you declare owning no home in Luoyang when applying"),
    ],
)
def test_the_no_home_declaration(declared, passed, message):
    result = check(AFFORDABLE, no_home_declared=declared)
    line = criterion(result, "no_home")
    assert (line.passed, line.message) == (passed, message)
    assert result.eligible is passed


@pytest.mark.parametrize("kind", [TALENT, AFFORDABLE])
def test_a_tenant_of_the_programme_cannot_apply_again(kind):
    result = check(kind, has_active_lease=True)
    assert not result.eligible
    assert [c.code for c in result.failures] == ["no_active_lease"]
    assert criterion(result, "no_active_lease").message == "Housing: you already rent a unit of the programme"


def test_every_failure_is_listed_at_once():
    result = check(
        AFFORDABLE,
        profile_missing=("Major",),
        works_in_luoyang=False,
        no_home_declared=False,
        has_active_lease=True,
        graduation_date=dt.date(2015, 6, 30),
    )
    assert [c.code for c in result.failures] == ["profile", "works_in_luoyang", "no_home", "no_active_lease"]
    assert not criterion(result, "graduation").passed  # shown, but not among the failures


# --- priority groups ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "order", "bucket"),
    [
        ({}, ORDER, PriorityBucket.OUT_OF_TOWN),
        ({"outside_luoyang": False}, ORDER, PriorityBucket.BACHELOR),
        ({"outside_luoyang": None}, ORDER, PriorityBucket.BACHELOR),  # unknown is not "from outside"
        ({"outside_luoyang": False, "education_level": EducationLevel.MASTER}, ORDER, PriorityBucket.POSTGRADUATE),
        ({"outside_luoyang": False, "education_level": EducationLevel.DOCTOR}, ORDER, PriorityBucket.POSTGRADUATE),
        (
            {"outside_luoyang": False, "education_level": EducationLevel.PREP_TECHNICIAN},
            ORDER,
            PriorityBucket.TECHNICIAN,
        ),
        ({"outside_luoyang": False, "education_level": EducationLevel.TECHNICIAN}, ORDER, PriorityBucket.TECHNICIAN),
        ({"outside_luoyang": False, "education_level": EducationLevel.JUNIOR_COLLEGE}, ORDER, PriorityBucket.OTHER),
        (
            {"outside_luoyang": False, "education_level": EducationLevel.JUNIOR_COLLEGE},
            [*ORDER, "junior_college"],
            PriorityBucket.JUNIOR_COLLEGE,
        ),
        # Another order: education first, so an out-of-town master is a postgraduate.
        ({"education_level": EducationLevel.MASTER}, ["postgraduate", "out_of_town"], PriorityBucket.POSTGRADUATE),
        ({"education_level": EducationLevel.MASTER}, ["out_of_town", "postgraduate"], PriorityBucket.OUT_OF_TOWN),
        # A master is not in the bachelor group: the groups are levels, not "at least".
        ({"outside_luoyang": False, "education_level": EducationLevel.MASTER}, ["bachelor"], PriorityBucket.OTHER),
        ({}, [], PriorityBucket.OTHER),  # no priority groups at all
        ({}, ["other"], PriorityBucket.OTHER),  # a lottery-only round
        ({}, ["no_such_group", "bachelor"], PriorityBucket.BACHELOR),
    ],
)
def test_the_first_group_of_the_rounds_order_that_describes_the_applicant(changes, order, bucket):
    assert bucket_for(facts=dataclasses.replace(FACTS, **changes), order=order) == bucket


# --- lease terms ----------------------------------------------------------------------------------


def terms(kind=TALENT, *, outside=True, used=0, renewal=False, months=12, params=LEASE_PARAMS, start=TODAY):
    return lease_terms(
        kind=kind,
        outside_luoyang=outside,
        monthly_rent=Decimal("1200"),
        start=start,
        months=months,
        rent_free_used=used,
        renewal=renewal,
        params=params,
    )


def test_talent_apartments_are_rent_free_for_three_years_counted_across_renewals():
    granted = []
    used = 0
    for renewal in (False, True, True, True):
        lease = terms(TALENT, used=used, renewal=renewal)
        granted.append(lease["rent_free_months"])
        used += lease["rent_free_months"]
    assert granted == [12, 12, 12, 0]
    assert lease["reduced_rent_percent"] == 50  # the reduced rent after the rent-free term
    assert lease["parameters"]["rent_free_used_before"] == 36


def test_a_talent_lease_longer_than_what_is_left_is_rent_free_only_for_the_rest():
    assert terms(TALENT, used=30, months=12)["rent_free_months"] == 6
    assert terms(TALENT, used=0, months=48)["rent_free_months"] == 36
    assert terms(TALENT, used=40, months=12)["rent_free_months"] == 0  # never negative
    # Local graduates are treated alike in talent apartments.
    assert terms(TALENT, outside=False)["rent_free_months"] == 12


@pytest.mark.parametrize(
    ("outside", "renewal", "rent_free"),
    [
        (True, False, 3),  # an out-of-town graduate's first lease
        (False, False, 0),  # a local graduate
        (None, False, 0),  # household registration not known
        (True, True, 0),  # a renewal
    ],
)
def test_affordable_rentals_give_out_of_town_graduates_rent_free_months_on_the_first_lease(outside, renewal, rent_free):
    lease = terms(AFFORDABLE, outside=outside, renewal=renewal)
    assert lease["rent_free_months"] == rent_free
    assert lease["reduced_rent_percent"] == 100


def test_the_lease_dates_and_the_parameters_it_used():
    lease = terms(TALENT, start=dt.date(2026, 1, 31), months=1)
    assert lease["start"] == dt.date(2026, 1, 31)
    assert lease["end"] == dt.date(2026, 2, 28)  # the month's last day
    assert terms(TALENT, start=dt.date(2028, 2, 29), months=12)["end"] == dt.date(2029, 2, 28)
    assert lease["monthly_rent"] == Decimal("1200")
    assert lease["parameters"] == {
        "lease_months": 1,
        "talent_rent_free_months": 36,
        "affordable_rent_free_months": 3,
        "reduced_rent_percent": 50,
        "rent_free_used_before": 0,
    }
    short = terms(AFFORDABLE, months=2, params=dataclasses.replace(LEASE_PARAMS, affordable_rent_free_months=3))
    assert short["rent_free_months"] == 2  # never more than the lease


# --- dated parameter rows ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_parameters_loaded_by_the_migration(district_1):
    assert selectors.housing_params(on=TODAY, district_id=district_1.pk) == HousingParams(graduation_years=3)
    assert selectors.lease_params(on=TODAY, district_id=None) == LeaseParams(
        lease_months=12, talent_rent_free_months=36, affordable_rent_free_months=3, reduced_rent_percent=50
    )


@pytest.mark.django_db
def test_a_new_graduation_limit_applies_from_its_effective_day_only(district_1):
    set_parameter(HOUSING_GRADUATION_YEARS, 2, effective_from=dt.date(2026, 7, 1))
    before = selectors.housing_params(on=dt.date(2026, 6, 30), district_id=district_1.pk)
    after = selectors.housing_params(on=dt.date(2026, 7, 1), district_id=district_1.pk)
    assert (before.graduation_years, after.graduation_years) == (3, 2)

    graduated = dt.date(2023, 7, 1)  # exactly three years before the change
    on_list = housing_eligibility(
        kind=AFFORDABLE,
        facts=dataclasses.replace(FACTS, graduation_date=graduated),
        params=before,
        today=dt.date(2026, 6, 30),
    )
    off_list = housing_eligibility(
        kind=AFFORDABLE,
        facts=dataclasses.replace(FACTS, graduation_date=graduated),
        params=after,
        today=dt.date(2026, 7, 1),
    )
    assert applicant_list_for(kind=AFFORDABLE, result=on_list) == ApplicantList.GRADUATE
    assert applicant_list_for(kind=AFFORDABLE, result=off_list) == ApplicantList.GENERAL
    assert off_list.parameters["graduation_years"] == 2


@pytest.mark.django_db
def test_a_districts_own_row_overrides_the_city_row(district_1, district_2):
    from portal.models import Parameter

    Parameter.objects.create(
        key=HOUSING_GRADUATION_YEARS, value=5, effective_from=dt.date(2026, 1, 1), district=district_1
    )
    assert selectors.housing_params(on=TODAY, district_id=district_1.pk).graduation_years == 5
    assert selectors.housing_params(on=TODAY, district_id=district_2.pk).graduation_years == 3


@pytest.mark.django_db
def test_new_lease_parameters_apply_to_leases_starting_on_or_after_their_day():
    change = dt.date(2027, 1, 1)
    set_parameter(HOUSING_TALENT_RENT_FREE_MONTHS, 24, effective_from=change)
    set_parameter(HOUSING_AFFORDABLE_RENT_FREE_MONTHS, 1, effective_from=change)
    set_parameter(HOUSING_REDUCED_RENT_PERCENT, 70, effective_from=change)
    set_parameter(HOUSING_LEASE_MONTHS, 6, effective_from=change)
    old = selectors.lease_params(on=change - dt.timedelta(days=1), district_id=None)
    new = selectors.lease_params(on=change, district_id=None)
    assert old == LEASE_PARAMS
    assert new == LeaseParams(
        lease_months=6, talent_rent_free_months=24, affordable_rent_free_months=1, reduced_rent_percent=70
    )
    # A talent tenant with two rent-free years used: the third is rent-free under the old
    # rows, not under the new cap of 24 months; one year used leaves half a year.
    assert terms(TALENT, used=24, params=old, start=change - dt.timedelta(days=1))["rent_free_months"] == 12
    assert terms(TALENT, used=24, params=new, start=change)["rent_free_months"] == 0
    assert terms(TALENT, used=12, params=new, start=change, months=new.lease_months)["rent_free_months"] == 6
    assert terms(AFFORDABLE, params=new, start=change)["rent_free_months"] == 1
    assert terms(TALENT, params=new, start=change)["reduced_rent_percent"] == 70
