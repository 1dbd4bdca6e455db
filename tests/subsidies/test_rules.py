"""The seven eligibility rules on the boundaries of each criterion: first as pure functions of
(facts, parameters, date), then through the selectors that read the facts from the profile,
jobs, apartments and earlier applications and the dated parameter rows (city-wide and a
district's own), including the traineeship example of the issue: a traineeship spanning
2021-12 and 2022-01 pays 80% of 1900 and then 80% of 2000 in a tier-1 district."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from jobs.constants import PositionKind
from portal.models import District, Parameter
from portal.rules import years_later
from subsidies import constants as c
from subsidies import selectors, services
from subsidies.constants import RuleCode
from subsidies.constants import SubsidyStatus as S
from subsidies.rules import RULES, HireFact, SubsidyFacts, evaluate, month_label
from tests.apartments import conftest as housing
from tests.apartments.conftest import DAY0, make_project
from tests.subsidies import test_services as shared
from tests.subsidies.conftest import make_subsidy_graduate, with_interview
from tests.subsidies.test_services import employer, hire_graduate, make_application

clock = housing.clock  # moves timezone.now to DAY0 (2026-05-11)
english = shared.english

TODAY = dt.date(2026, 5, 11)
D = Decimal

PARAMS = {
    c.INTERVIEW_AMOUNT: D("500"),
    c.INTERVIEW_GRADUATION_YEARS: D("2"),
    c.TRAINEESHIP_FACTOR: D("0.8"),
    c.TRAINEESHIP_MAX_MONTHS: D("12"),
    "min-wage-tier-1": D("2000"),
    "min-wage-tier-2": D("1800"),
    "min-wage-tier-3": D("1600"),
    c.HIRING_AMOUNT: D("1000"),
    c.HIRING_GRADUATION_YEARS: D("2"),
    c.RENT_MONTHLY_AMOUNT: D("300"),
    c.RENT_GRADUATION_YEARS: D("3"),
    c.STARTUP_GRADUATION_YEARS: D("5"),
    c.INCUBATION_MAX_MONTHS: D("36"),
    c.BASE_MIN: D("100000"),
    c.BASE_MAX: D("200000"),
}


def run(code: str, facts: SubsidyFacts, *, period_start: dt.date = TODAY, today: dt.date = TODAY, **params):
    """Evaluate rule ``code`` with the parameters it names (overridden by ``params``)."""
    values = {**PARAMS, **{k.replace("_", "-"): D(str(v)) for k, v in params.items()}}
    keys = RULES[code].parameter_keys(facts)
    return evaluate(code, facts, {k: values[k] for k in keys}, period_start, today)


def passed(outcome) -> dict[str, bool]:
    return {criterion.code: criterion.passed for criterion in outcome.result.criteria}


def failures(outcome) -> list[str]:
    return [criterion.code for criterion in outcome.result.failures]


GRADUATE = {
    "outside_luoyang": True,
    "graduation_date": TODAY - dt.timedelta(days=180),
    "works_in_luoyang": True,
}


# --- pure functions ---------------------------------------------------------------------------


class TestInterviewTravel:
    def facts(self, **kw) -> SubsidyFacts:
        return SubsidyFacts(**{**GRADUATE, "interview_employers": ("洛阳轴承",), **kw})

    def test_an_out_of_town_recent_graduate_invited_to_an_interview_gets_the_amount(self):
        outcome = run(RuleCode.INTERVIEW_TRAVEL, self.facts())
        assert outcome.result.eligible
        assert outcome.amount == D("500.00")
        assert set(passed(outcome)) == {"profile", "hukou", "graduation", "interview", "once"}

    @pytest.mark.parametrize(
        ("graduated", "eligible"),
        [
            (years_later(TODAY, -2), True),  # exactly two years ago
            (years_later(TODAY, -2) - dt.timedelta(days=1), False),  # a day more
            (TODAY, True),  # graduated today
            (TODAY + dt.timedelta(days=1), False),  # not yet graduated
            (None, False),
        ],
    )
    def test_graduation_within_the_years_counts_by_the_calendar(self, graduated, eligible):
        outcome = run(RuleCode.INTERVIEW_TRAVEL, self.facts(graduation_date=graduated))
        assert passed(outcome)["graduation"] is eligible
        assert outcome.result.eligible is eligible

    def test_the_graduation_limit_is_a_parameter(self):
        three_years = years_later(TODAY, -3)
        assert not run(RuleCode.INTERVIEW_TRAVEL, self.facts(graduation_date=three_years)).result.eligible
        outcome = run(
            RuleCode.INTERVIEW_TRAVEL, self.facts(graduation_date=three_years), subsidy_interview_graduation_years=3
        )
        assert outcome.result.eligible

    @pytest.mark.parametrize(("outside", "ok"), [(True, True), (False, False), (None, False)])
    def test_only_graduates_from_outside_luoyang(self, outside, ok):
        assert passed(run(RuleCode.INTERVIEW_TRAVEL, self.facts(outside_luoyang=outside)))["hukou"] is ok

    def test_an_interview_in_the_jobs_programme_or_an_uploaded_letter(self):
        nothing = run(RuleCode.INTERVIEW_TRAVEL, self.facts(interview_employers=()))
        assert failures(nothing) == ["interview"]
        letter = run(RuleCode.INTERVIEW_TRAVEL, self.facts(interview_employers=(), has_invitation_letter=True))
        assert letter.result.eligible

    def test_once_per_person(self):
        assert failures(run(RuleCode.INTERVIEW_TRAVEL, self.facts(earlier_same_programme=1))) == ["once"]

    def test_an_incomplete_profile_is_named(self, english):
        outcome = run(RuleCode.INTERVIEW_TRAVEL, self.facts(profile_missing=("ID number", "School")))
        assert failures(outcome) == ["profile"]
        assert "ID number" in outcome.result.failures[0].message

    def test_the_amount_is_the_parameter_in_force(self):
        assert run(RuleCode.INTERVIEW_TRAVEL, self.facts(), subsidy_interview_amount="650").amount == D("650.00")

    def test_the_result_records_the_rule_version_and_every_value_used(self):
        outcome = run(RuleCode.INTERVIEW_TRAVEL, self.facts())
        assert outcome.result.parameters == {
            "rule": RuleCode.INTERVIEW_TRAVEL,
            "rule_version": RULES[RuleCode.INTERVIEW_TRAVEL].version,
            "evaluated_on": "2026-05-11",
            "period_start": "2026-05-11",
            c.INTERVIEW_AMOUNT: "500",
            c.INTERVIEW_GRADUATION_YEARS: "2",
        }


class TestTraineeshipLiving:
    HIRED = dt.date(2025, 11, 15)

    def facts(self, **kw) -> SubsidyFacts:
        hire = HireFact(1, 9, PositionKind.TRAINEESHIP, self.HIRED)
        return SubsidyFacts(**{"organisation_is_base": True, "organisation_verified": True, "hire": hire, **kw})

    @pytest.mark.parametrize(
        ("month", "inside"),
        [
            (dt.date(2025, 10, 1), False),  # the month before the traineeship
            (dt.date(2025, 11, 1), True),  # the month it started
            (dt.date(2026, 10, 1), True),  # the 12th month
            (dt.date(2026, 11, 1), False),  # the 13th
        ],
    )
    def test_the_first_months_of_the_traineeship(self, month, inside):
        outcome = run(RuleCode.TRAINEESHIP_LIVING, self.facts(), period_start=month, today=dt.date(2026, 12, 1))
        assert passed(outcome)["trainee"] is inside

    def test_the_number_of_months_is_a_parameter(self):
        month = dt.date(2026, 11, 1)
        outcome = run(
            RuleCode.TRAINEESHIP_LIVING,
            self.facts(),
            period_start=month,
            today=dt.date(2026, 12, 1),
            subsidy_traineeship_max_months=13,
        )
        assert passed(outcome)["trainee"]

    def test_a_month_not_yet_begun_cannot_be_claimed(self):
        this_month = run(RuleCode.TRAINEESHIP_LIVING, self.facts(), period_start=TODAY.replace(day=1))
        assert passed(this_month)["month_started"]
        next_month = run(RuleCode.TRAINEESHIP_LIVING, self.facts(), period_start=dt.date(2026, 6, 1))
        assert failures(next_month) == ["month_started"]

    def test_only_a_designated_base_with_a_traineeship_recorded_in_jobs(self):
        assert failures(run(RuleCode.TRAINEESHIP_LIVING, self.facts(organisation_is_base=False))) == ["base"]
        assert failures(run(RuleCode.TRAINEESHIP_LIVING, self.facts(hire=None))) == ["trainee"]
        job = HireFact(1, 9, PositionKind.JOB, self.HIRED)
        assert failures(run(RuleCode.TRAINEESHIP_LIVING, self.facts(hire=job))) == ["trainee"]

    @pytest.mark.parametrize(("tier", "amount"), [(1, "1600.00"), (2, "1440.00"), (3, "1280.00")])
    def test_the_factor_of_the_minimum_wage_of_the_tier(self, tier, amount):
        facts = self.facts(wage_tier=tier)
        assert RULES[RuleCode.TRAINEESHIP_LIVING].parameter_keys(facts)[-1] == f"min-wage-tier-{tier}"
        assert run(RuleCode.TRAINEESHIP_LIVING, facts).amount == D(amount)

    def test_the_factor_is_a_parameter_and_the_amount_is_rounded_to_the_fen(self, english):
        outcome = run(RuleCode.TRAINEESHIP_LIVING, self.facts(), subsidy_traineeship_factor="0.8333")
        assert outcome.amount == D("1666.60")
        assert "83.33% of the minimum wage 2000 (tier 1, 2026-05) = 1666.60" in outcome.result.criteria[-1].message

    def test_not_combined_with_an_approved_programme_for_the_same_period(self):
        outcome = run(RuleCode.TRAINEESHIP_LIVING, self.facts(excluded_by=("民营企业吸纳高校毕业生补贴",)))
        assert failures(outcome) == ["not_combined"]


class TestEmployerHiring:
    def facts(self, **kw) -> SubsidyFacts:
        hire = HireFact(1, 9, PositionKind.JOB, TODAY)
        return SubsidyFacts(
            **{**GRADUATE, "organisation_verified": True, "organisation_private": True, "hire": hire, **kw}
        )

    def test_a_verified_private_employer_hiring_a_recent_graduate(self):
        outcome = run(RuleCode.EMPLOYER_HIRING, self.facts())
        assert outcome.result.eligible
        assert outcome.amount == D("1000.00")

    @pytest.mark.parametrize(
        ("change", "failed"),
        [
            ({"organisation_verified": False}, ["verified"]),
            ({"organisation_private": False}, ["private"]),
            ({"hire": None}, ["hire"]),
            ({"hire": HireFact(1, 9, PositionKind.JOB, None)}, ["hire"]),
            ({"graduation_date": years_later(TODAY, -2)}, []),
            ({"graduation_date": years_later(TODAY, -2) - dt.timedelta(days=1)}, ["graduation"]),
            ({"excluded_by": ("见习生活补贴",)}, ["not_combined"]),
        ],
    )
    def test_each_criterion(self, change, failed):
        assert failures(run(RuleCode.EMPLOYER_HIRING, self.facts(**change))) == failed

    def test_the_years_since_graduation_count_to_the_hire_not_to_the_check(self):
        # Hired 1 year 11 months after graduating; the employer applies (or the check runs)
        # a year later, when the graduate is 2 years 11 months out: still eligible.
        graduated = years_later(TODAY, -3) + dt.timedelta(days=30)
        hire = HireFact(1, 9, PositionKind.JOB, years_later(graduated, 2) - dt.timedelta(days=30))
        with translation.override("en"):
            outcome = run(RuleCode.EMPLOYER_HIRING, self.facts(graduation_date=graduated, hire=hire))
        assert outcome.result.eligible
        line = next(c for c in outcome.result.criteria if c.code == "graduation")
        assert "within 2 years of the hire" in line.message
        late_hire = HireFact(1, 9, PositionKind.JOB, years_later(graduated, 2) + dt.timedelta(days=1))
        late = run(RuleCode.EMPLOYER_HIRING, self.facts(graduation_date=graduated, hire=late_hire))
        assert failures(late) == ["graduation"]


class TestRentSubsidy:
    def facts(self, months=12, **kw) -> SubsidyFacts:
        return SubsidyFacts(**{**GRADUATE, "details": {"months": months}, **kw})

    @pytest.mark.parametrize(("months", "ok"), [(0, False), (1, True), (12, True), (13, False)])
    def test_one_to_twelve_months(self, months, ok):
        outcome = run(RuleCode.RENT_SUBSIDY, self.facts(months))
        assert ("months" not in failures(outcome)) is ok
        assert outcome.amount == (D(300 * months) if ok else D(0))

    @pytest.mark.parametrize(
        ("graduated", "ok"),
        [(years_later(TODAY, -3), True), (years_later(TODAY, -3) - dt.timedelta(days=1), False)],
    )
    def test_graduated_within_three_years(self, graduated, ok):
        assert passed(run(RuleCode.RENT_SUBSIDY, self.facts(graduation_date=graduated)))["graduation"] is ok

    def test_working_in_luoyang(self):
        assert failures(run(RuleCode.RENT_SUBSIDY, self.facts(works_in_luoyang=False))) == ["works_in_luoyang"]

    @pytest.mark.parametrize(
        ("until", "ok"),
        [(TODAY, False), (TODAY + dt.timedelta(days=40), False), (TODAY - dt.timedelta(days=1), True), (None, True)],
    )
    def test_not_while_rent_free_in_a_talent_apartment(self, until, ok):
        outcome = run(RuleCode.RENT_SUBSIDY, self.facts(rent_free_until=until))
        assert passed(outcome)["no_rent_free_lease"] is ok

    def test_months_claimed_already_are_refused(self):
        assert failures(run(RuleCode.RENT_SUBSIDY, self.facts(period_taken_by=("S000007",)))) == ["period"]


class TestIncubationRent:
    def facts(self, months=6, used=0, rent="1500", **kw) -> SubsidyFacts:
        details = {"business_name": "洛阳青创科技", "credit_code": "91410300MA00000001", "months": months}
        details["monthly_rent"] = rent
        return SubsidyFacts(**{**GRADUATE, "details": details, "incubation_months_used": used, **kw})

    def test_rent_times_months(self):
        outcome = run(RuleCode.INCUBATION_RENT, self.facts())
        assert outcome.result.eligible
        assert outcome.amount == D("9000.00")

    @pytest.mark.parametrize(
        ("months", "used", "ok"),
        [(6, 30, True), (7, 30, False), (1, 35, True), (1, 36, False), (0, 0, False), (12, 24, True)],
    )
    def test_thirty_six_months_per_business_in_total(self, months, used, ok):
        outcome = run(RuleCode.INCUBATION_RENT, self.facts(months=months, used=used))
        assert passed(outcome)["months"] is ok
        assert outcome.amount == (D(1500 * months) if ok else D(0))

    def test_the_business_and_its_rent(self):
        facts = self.facts()
        no_code = SubsidyFacts(**{**GRADUATE, "details": {**facts.details, "credit_code": ""}})
        assert failures(run(RuleCode.INCUBATION_RENT, no_code)) == ["business"]
        assert failures(run(RuleCode.INCUBATION_RENT, self.facts(rent="0"))) == ["rent"]

    @pytest.mark.parametrize(
        ("graduated", "ok"),
        [(years_later(TODAY, -5), True), (years_later(TODAY, -5) - dt.timedelta(days=1), False)],
    )
    def test_graduated_within_five_years(self, graduated, ok):
        assert passed(run(RuleCode.INCUBATION_RENT, self.facts(graduation_date=graduated)))["graduation"] is ok


class TestUniversityBase:
    def test_a_verified_employer_with_a_partner_university(self, english):
        facts = SubsidyFacts(organisation_verified=True, details={"university": "河南科技大学"})
        outcome = run(RuleCode.UNIVERSITY_BASE, facts)
        assert outcome.result.eligible
        assert outcome.amount == D("100000.00")  # the lower end until staff assess the base
        assert "100000 to 200000" in outcome.result.criteria[-1].message

    def test_each_criterion(self):
        assert failures(run(RuleCode.UNIVERSITY_BASE, SubsidyFacts(details={"university": "河南科技大学"}))) == [
            "verified"
        ]
        assert failures(run(RuleCode.UNIVERSITY_BASE, SubsidyFacts(organisation_verified=True))) == ["university"]


class TestStartupLoan:
    def facts(self, **kw) -> SubsidyFacts:
        return SubsidyFacts(**{**GRADUATE, "details": {"product": "talent"}, **kw})

    def test_eligible_for_the_referral_and_the_portal_pays_nothing(self):
        outcome = run(RuleCode.STARTUP_LOAN, self.facts())
        assert outcome.result.eligible
        assert outcome.amount == D("0.00")

    @pytest.mark.parametrize(
        ("change", "failed"),
        [
            ({"details": {"product": "mortgage"}}, ["product"]),
            ({"details": {}}, ["product"]),
            ({"works_in_luoyang": False}, ["works_in_luoyang"]),
            ({"graduation_date": years_later(TODAY, -5)}, []),
            ({"graduation_date": years_later(TODAY, -5) - dt.timedelta(days=1)}, ["graduation"]),
        ],
    )
    def test_each_criterion(self, change, failed):
        assert failures(run(RuleCode.STARTUP_LOAN, self.facts(**change))) == failed


@pytest.mark.parametrize(
    ("language", "december", "january"), [("zh-hans", "2021年12月", "2022年01月"), ("en", "2021-12", "2022-01")]
)
def test_month_labels(language, december, january):
    with translation.override(language):
        assert month_label(dt.date(2021, 12, 1)) == december
        assert month_label(dt.date(2022, 1, 31)) == january


def test_every_programme_has_a_rule_with_a_version():
    assert set(RULES) == set(RuleCode.values)
    assert all(rule.version for rule in RULES.values())


# --- dated parameters -----------------------------------------------------------------------------


@pytest.mark.django_db
class TestParametersInForce:
    def value(self, key: str, on: dt.date, district=None):
        return selectors.parameters_in_force(keys=[key], on=on, district_id=district.pk if district else None)[key]

    @pytest.mark.parametrize(
        ("on", "tier_1", "tier_2", "tier_3"),
        [
            (dt.date(2015, 7, 1), 1600, 1450, 1300),
            (dt.date(2018, 9, 30), 1600, 1450, 1300),
            (dt.date(2018, 10, 1), 1900, 1700, 1500),
            (dt.date(2021, 12, 31), 1900, 1700, 1500),
            (dt.date(2022, 1, 1), 2000, 1800, 1600),
        ],
    )
    def test_the_henan_minimum_wage_history(self, on, tier_1, tier_2, tier_3):
        values = selectors.parameters_in_force(
            keys=[c.MIN_WAGE.format(tier=t) for t in (1, 2, 3)], on=on, district_id=None
        )
        assert list(values.values()) == [tier_1, tier_2, tier_3]

    def test_no_value_before_the_first_row(self):
        with pytest.raises(LookupError):
            self.value("min-wage-tier-1", dt.date(2015, 6, 30))
        with pytest.raises(LookupError):
            self.value(c.TRAINEESHIP_FACTOR, dt.date(2021, 12, 1))  # the plan took effect on 2 December
        assert self.value(c.TRAINEESHIP_FACTOR, dt.date(2021, 12, 2)) == D("0.8")

    def test_a_districts_own_row_comes_before_the_city_wide_one_from_its_date(self, district_1, district_2):
        Parameter.objects.create(
            key=c.RENT_MONTHLY_AMOUNT, value=450, effective_from=dt.date(2026, 3, 1), district=district_1
        )
        assert self.value(c.RENT_MONTHLY_AMOUNT, dt.date(2026, 2, 28), district_1) == 300
        assert self.value(c.RENT_MONTHLY_AMOUNT, dt.date(2026, 3, 1), district_1) == 450
        assert self.value(c.RENT_MONTHLY_AMOUNT, dt.date(2026, 3, 1), district_2) == 300
        assert self.value(c.RENT_MONTHLY_AMOUNT, dt.date(2026, 3, 1)) == 300
        # A newer city-wide row does not override the district's own.
        Parameter.objects.create(key=c.RENT_MONTHLY_AMOUNT, value=350, effective_from=dt.date(2026, 4, 1))
        assert self.value(c.RENT_MONTHLY_AMOUNT, dt.date(2026, 4, 1), district_1) == 450
        assert self.value(c.RENT_MONTHLY_AMOUNT, dt.date(2026, 4, 1), district_2) == 350

    def test_rows_loaded_once_give_the_same_values(self, district_1):
        Parameter.objects.create(
            key=c.HIRING_AMOUNT, value=1200, effective_from=dt.date(2026, 1, 1), district=district_1
        )
        rows = list(Parameter.objects.all())
        keys = [c.HIRING_AMOUNT, "min-wage-tier-2"]
        for on in (dt.date(2021, 12, 31), dt.date(2026, 1, 1)):
            for district_id in (None, district_1.pk):
                loaded = selectors.parameters_in_force(keys=keys, on=on, district_id=district_id, rows=rows)
                assert loaded == selectors.parameters_in_force(keys=keys, on=on, district_id=district_id)


# --- through the selectors: facts from the profile, jobs, apartments, applications ---------------


@pytest.fixture
def base(db, clock, district_1):
    """A traineeship base in 洛龙区 (tier 1) and its member who claims."""
    return employer(district_1, base=True)


def traineeship_claim(base, trainee, month: dt.date, *, programme, hire=None):
    """The traineeship base's claim for ``trainee`` and ``month``, as previewed."""
    org, member = base
    hire = hire or hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2021, 11, 20))
    return services.subsidy_eligibility(
        programme=programme,
        applicant=member,
        organisation=org,
        beneficiary=trainee,
        job_application_id=hire.pk,
        period_start=month,
    )


@pytest.mark.django_db
class TestTheTraineeshipExample:
    """80% of the minimum wage in force in the month claimed, by the tier of the base's
    district."""

    @pytest.mark.parametrize(
        ("tier", "december", "january"),
        [(1, "1520.00", "1600.00"), (2, "1360.00", "1440.00"), (3, "1200.00", "1280.00")],
    )
    def test_december_2021_and_january_2022(self, base, programme, tier, december, january):
        org, _member = base
        District.objects.filter(pk=org.district_id).update(wage_tier=tier)
        org.district.refresh_from_db()
        trainee = make_subsidy_graduate()
        hire = hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2021, 11, 20))
        p = programme("traineeship-living")
        dec = traineeship_claim(base, trainee, dt.date(2021, 12, 1), hire=hire, programme=p)
        jan = traineeship_claim(base, trainee, dt.date(2022, 1, 1), hire=hire, programme=p)
        assert dec.result.eligible and jan.result.eligible, (dec.result.as_dict(), jan.result.as_dict())
        assert (dec.amount, jan.amount) == (D(december), D(january))
        wage = f"min-wage-tier-{tier}"
        assert dec.result.parameters[wage] == str(
            Parameter.objects.get(key=wage, effective_from=dt.date(2018, 10, 1)).value
        )
        assert jan.result.parameters[wage] == str(
            Parameter.objects.get(key=wage, effective_from=dt.date(2022, 1, 1)).value
        )
        assert dec.result.parameters[c.TRAINEESHIP_FACTOR] == "0.8000"

    def test_the_stored_checks_of_the_two_months(self, base, programme, django_capture_on_commit_callbacks, english):
        org, member = base
        # The stored criteria are written in the applicant's language (the employer member's).
        member.language = "en"
        member.save(update_fields=["language"])
        trainee = make_subsidy_graduate()
        hire = hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2021, 11, 20))
        apps = []
        for month in (dt.date(2021, 12, 1), dt.date(2022, 1, 1)):
            with django_capture_on_commit_callbacks(execute=True):
                apps.append(
                    services.subsidy_application_create(
                        programme=programme("traineeship-living"),
                        applicant=member,
                        organisation=org,
                        job_application_id=hire.pk,
                        period_start=month,
                    )
                )
        for app, amount, label in zip(apps, ("1520.00", "1600.00"), ("2021-12", "2022-01"), strict=True):
            app.refresh_from_db()
            check = app.checks.get()
            assert (app.status, app.amount, check.amount) == (S.ELIGIBLE, D(amount), D(amount))
            assert app.period_start.strftime("%Y-%m") == label
            assert f"(tier 1, {label}) = {amount}" in check.result["criteria"][-1]["message"]
            assert f"month {label} within the first 12 months" in check.result["criteria"][1]["message"]

    def test_a_district_with_its_own_minimum_wage(self, base, programme):
        org, _member = base
        Parameter.objects.create(
            key="min-wage-tier-1", value=2100, effective_from=dt.date(2022, 1, 1), district=org.district
        )
        trainee = make_subsidy_graduate()
        outcome = traineeship_claim(base, trainee, dt.date(2022, 1, 1), programme=programme("traineeship-living"))
        assert outcome.amount == D("1680.00")


@pytest.mark.django_db
class TestFactsFromTheOtherProgrammes:
    def test_graduation_exactly_n_years_ago(self, clock, programme, district_1):
        exactly = make_subsidy_graduate(district=district_1, graduation_date=years_later(DAY0, -2))
        a_day_more = make_subsidy_graduate(
            district=district_1, graduation_date=years_later(DAY0, -2) - dt.timedelta(days=1)
        )
        for user in (exactly, a_day_more):
            with_interview(user)
        p = programme("interview-travel")
        assert services.subsidy_eligibility(programme=p, applicant=exactly).result.eligible
        outcome = services.subsidy_eligibility(programme=p, applicant=a_day_more)
        assert failures(outcome) == ["graduation"]

    def test_the_profile_and_its_documents(self, clock, programme, district_1):
        from portal.models import Consent
        from tests.portal.factories import ProfileFactory

        incomplete = ProfileFactory(district=district_1, complete=True, hukou_city="郑州市").user
        with_interview(incomplete)  # no degree certificate uploaded
        outcome = services.subsidy_eligibility(programme=programme("interview-travel"), applicant=incomplete)
        assert failures(outcome) == ["profile"]
        graduate = make_subsidy_graduate(district=district_1)
        with_interview(graduate)
        assert services.subsidy_eligibility(programme=programme("interview-travel"), applicant=graduate).result.eligible
        Consent.objects.filter(user=graduate).delete()
        assert failures(services.subsidy_eligibility(programme=programme("interview-travel"), applicant=graduate)) == [
            "profile"
        ]

    def test_an_invitation_letter_or_an_interview_in_jobs(self, clock, programme, district_1):
        from portal.constants import DocumentKind
        from tests.apartments.conftest import give_letter

        graduate = make_subsidy_graduate(district=district_1)
        p = programme("interview-travel")
        assert failures(services.subsidy_eligibility(programme=p, applicant=graduate)) == ["interview"]
        give_letter(graduate, kind=DocumentKind.INVITATION_LETTER)
        assert services.subsidy_eligibility(programme=p, applicant=graduate).result.eligible

    def test_the_interview_subsidy_once_per_person(self, clock, programme, district_1, staff_1):
        graduate = make_subsidy_graduate(district=district_1)
        with_interview(graduate)
        p = programme("interview-travel")
        first = make_application(p, graduate, status=S.PAID)
        outcome = services.subsidy_eligibility(programme=p, applicant=graduate)
        assert failures(outcome) == ["once"]
        # A rejected or withdrawn one does not count.
        for status in (S.REJECTED, S.WITHDRAWN):
            type(first).objects.filter(pk=first.pk).update(status=status)
            assert services.subsidy_eligibility(programme=p, applicant=graduate).result.eligible

    def test_the_rent_subsidy_not_while_a_talent_apartment_lease_is_rent_free(self, clock, programme, district_1):
        from apartments.models import Lease

        graduate = make_subsidy_graduate(district=district_1)
        p = programme("rent-subsidy")

        def rent(month: dt.date, months: int = 1):
            return services.subsidy_eligibility(
                programme=p, applicant=graduate, period_start=month, details={"months": months}
            )

        assert rent(dt.date(2026, 6, 1)).result.eligible
        project = make_project(district_1)
        lease = Lease.objects.create(
            unit=project.units.first(),
            tenant=graduate,
            start=dt.date(2026, 4, 1),
            end=dt.date(2029, 3, 31),
            monthly_rent=900,
            rent_free_months=3,  # rent-free April to June
        )
        assert failures(rent(dt.date(2026, 6, 1))) == ["no_rent_free_lease"]
        assert rent(dt.date(2026, 7, 1)).result.eligible
        assert rent(dt.date(2026, 3, 1)).result.eligible  # before the lease
        assert failures(rent(dt.date(2026, 3, 1), months=2)) == ["no_rent_free_lease"]  # March and April
        # An ended lease, or an affordable rental, does not stop the rent subsidy.
        Lease.objects.filter(pk=lease.pk).update(status="ended")
        assert rent(dt.date(2026, 6, 1)).result.eligible
        Lease.objects.filter(pk=lease.pk).update(status="active")
        type(project).objects.filter(pk=project.pk).update(kind="affordable_rental")
        assert rent(dt.date(2026, 6, 1)).result.eligible

    def test_months_of_rent_already_claimed(self, clock, programme, district_1):
        graduate = make_subsidy_graduate(district=district_1)
        p = programme("rent-subsidy")
        make_application(
            p, graduate, status=S.ELIGIBLE, period_start=dt.date(2026, 1, 1), period_end=dt.date(2026, 6, 30)
        )

        def rent(month, months=1):
            return services.subsidy_eligibility(
                programme=p, applicant=graduate, period_start=month, details={"months": months}
            )

        assert failures(rent(dt.date(2026, 6, 1))) == ["period"]
        assert failures(rent(dt.date(2025, 12, 1), months=2)) == ["period"]
        assert rent(dt.date(2026, 7, 1)).result.eligible
        assert rent(dt.date(2025, 12, 1)).result.eligible

    def test_incubation_thirty_six_months_per_business_across_applications(self, clock, programme, district_1):
        p = programme("incubation-rent")
        founder, partner = make_subsidy_graduate(district=district_1), make_subsidy_graduate(district=district_1)
        code = "91410300MA9ABCDEF1"
        for n, months in enumerate((12, 12, 6)):
            make_application(
                p,
                founder if n else partner,  # the same business, whoever applied
                status=(S.APPROVED, S.PAID, S.NOTICE)[n],
                period_start=dt.date(2023 + n, 1, 1),
                details={"credit_code": code, "months": months},
                dedupe_key=f"business:{code}:{2023 + n}-01",
            )
        make_application(p, founder, status=S.REJECTED, details={"credit_code": code, "months": 12})

        def waiver(months, credit_code=code):
            details = {"business_name": "洛阳青创科技", "credit_code": credit_code, "months": months}
            return services.subsidy_eligibility(
                programme=p, applicant=founder, details={**details, "monthly_rent": "2000"}
            )

        assert waiver(6).result.eligible  # 30 of 36 months used
        assert waiver(6).amount == D("12000.00")
        assert failures(waiver(7)) == ["months"]
        assert waiver(12, credit_code="91410300MA9ABCDEF2").result.eligible  # another business

    def test_employer_hiring_and_the_traineeship_subsidy_are_not_combined(self, base, programme, district_1):
        org, member = base
        trainee = make_subsidy_graduate(district=district_1)
        other = make_subsidy_graduate(district=district_1)
        traineeship = hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2026, 3, 2))
        job = hire_graduate(org, trainee, kind=PositionKind.JOB, hired_on=DAY0)
        other_job = hire_graduate(org, other, kind=PositionKind.JOB, hired_on=DAY0)
        hiring, living = programme("employer-hiring"), programme("traineeship-living")

        def hiring_claim(hire, person):
            return services.subsidy_eligibility(
                programme=hiring, applicant=member, organisation=org, beneficiary=person, job_application_id=hire.pk
            )

        def living_claim(month):
            return services.subsidy_eligibility(
                programme=living,
                applicant=member,
                organisation=org,
                beneficiary=trainee,
                job_application_id=traineeship.pk,
                period_start=month,
            )

        assert hiring_claim(job, trainee).result.eligible
        may = make_application(
            living,
            member,
            beneficiary=trainee,
            organisation=org,
            job_application=traineeship,
            status=S.ELIGIBLE,
            period_start=dt.date(2026, 5, 1),
            period_end=dt.date(2026, 5, 31),
        )
        assert hiring_claim(job, trainee).result.eligible  # only an approved one excludes
        type(may).objects.filter(pk=may.pk).update(status=S.APPROVED)
        assert failures(hiring_claim(job, trainee)) == ["not_combined"]
        assert hiring_claim(other_job, other).result.eligible  # another graduate
        # Either way round: an approved hiring subsidy excludes the traineeship months it falls in.
        type(may).objects.filter(pk=may.pk).update(status=S.WITHDRAWN)
        make_application(
            hiring,
            member,
            beneficiary=trainee,
            organisation=org,
            job_application=job,
            status=S.NOTICE,
            period_start=DAY0,
        )
        assert failures(living_claim(dt.date(2026, 5, 1))) == ["not_combined"]
        assert living_claim(dt.date(2026, 4, 1)).result.eligible
