"""The eligibility rule of each programme (DESIGN.md "Eligibility: rules as data"): a pure
function of the facts of the person concerned, the parameters in force and a date, returning
eligible or not, one line per criterion with the values used, and the amount.

A rule names the parameters it reads (``parameter_keys``) so the caller can load the values
in force for the period and the district; the stored check records them and the rule's
``version``, so a decision can be explained years later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from portal.rules import RuleResult, months_later, whole_years_between, years_later
from subsidies import constants as c
from subsidies.constants import RuleCode

__all__ = ["RULES", "HireFact", "Outcome", "Rule", "SubsidyFacts", "evaluate", "month_label"]


@dataclass(frozen=True)
class HireFact:
    """A hire recorded in the jobs programme."""

    job_application_id: int
    organisation_id: int
    position_kind: str
    hired_on: dt.date | None


@dataclass(frozen=True)
class SubsidyFacts:
    """What the rules read, gathered by ``selectors.subsidy_facts`` from the one profile,
    jobs, apartments and earlier applications."""

    # The graduate concerned: the applicant, or the trainee or hire an employer claims for.
    profile_missing: tuple[str, ...] = ()
    outside_luoyang: bool | None = None
    graduation_date: dt.date | None = None
    works_in_luoyang: bool = False
    # Jobs: Luoyang employers that invited them to an interview; uploaded invitation letters.
    interview_employers: tuple[str, ...] = ()
    has_invitation_letter: bool = False
    # The employer of an employer's claim.
    organisation_verified: bool = False
    organisation_private: bool = False
    organisation_is_base: bool = False
    wage_tier: int = 1
    hire: HireFact | None = None
    # Apartments: the last rent-free day of an active talent-apartment lease whose rent-free
    # months overlap the period claimed, if any.
    rent_free_until: dt.date | None = None
    # Earlier applications: how many of this programme the person already holds, months of
    # the incubation waiver the business has used, and programmes this one cannot join.
    earlier_same_programme: int = 0
    incubation_months_used: int = 0
    excluded_by: tuple[str, ...] = ()
    # Monthly claims of several months: earlier applications of the same person (rent) or
    # business (incubation) whose months overlap this one's (the database refuses only a
    # second claim starting in the same month).
    period_taken_by: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    result: RuleResult
    amount: Decimal


@dataclass(frozen=True)
class Rule:
    code: str
    version: str
    parameter_keys: Callable[[SubsidyFacts], list[str]]
    evaluate: Callable[[SubsidyFacts, dict[str, Decimal], dt.date, dt.date], Outcome]


RULES: dict[str, Rule] = {}


def _register(code: str, version: str, keys: Callable[[SubsidyFacts], list[str]]):
    def wrap(function):
        RULES[code] = Rule(code=code, version=version, parameter_keys=keys, evaluate=function)
        return function

    return wrap


def evaluate(code: str, facts: SubsidyFacts, params: dict[str, Decimal], period_start: dt.date, today: dt.date):
    """Run rule ``code``; the result carries the rule's version and the values used."""
    rule = RULES[code]
    outcome = rule.evaluate(facts, params, period_start, today)
    outcome.result.parameters.update(
        {
            "rule": code,
            "rule_version": rule.version,
            "evaluated_on": today.isoformat(),
            "period_start": period_start.isoformat(),
            **{key: str(value) for key, value in params.items()},
        }
    )
    return outcome


# --- shared criteria ------------------------------------------------------------------------


def month_label(day: dt.date) -> str:
    return _("%(year)d-%(month)02d") % {"year": day.year, "month": day.month}


def _money(value: Decimal) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _profile(result: RuleResult, facts: SubsidyFacts) -> None:
    if facts.profile_missing:
        result.add(
            "profile", False, _("Profile: still missing %(items)s") % {"items": "、".join(facts.profile_missing)}
        )
    else:
        result.add("profile", True, _("Profile: complete"))


def _graduated_within(
    result: RuleResult, facts: SubsidyFacts, years: int, today: dt.date, *, at_hire: dt.date | None = None
) -> None:
    """Graduated at most ``years`` before ``today``, or before the hire (``at_hire``) where the
    policy counts the years to the moment of hiring: an employer that hired a graduate in
    their second year keeps the subsidy when the application is checked in the third."""
    if at_hire is not None:
        today = min(today, at_hire)
    if facts.graduation_date is None:
        result.add("graduation", False, _("Graduation date: not filled in the profile"))
        return
    if facts.graduation_date > today:
        result.add(
            "graduation",
            False,
            _("Graduation: %(date)s, not yet graduated") % {"date": month_label(facts.graduation_date)},
        )
        return
    within = facts.graduation_date >= years_later(today, -years)
    if at_hire is not None:
        message = (
            _("Graduation: %(date)s, within %(n)d years of the hire")
            if within
            else _("Graduation: %(date)s, more than %(n)d years before the hire (%(years)d)")
        )
    else:
        message = (
            _("Graduation: %(date)s, within %(n)d years")
            if within
            else _("Graduation: %(date)s, more than %(n)d years ago (%(years)d)")
        )
    result.add(
        "graduation",
        within,
        message
        % {
            "date": month_label(facts.graduation_date),
            "n": years,
            "years": whole_years_between(facts.graduation_date, today),
        },
    )


def _outside_luoyang(result: RuleResult, facts: SubsidyFacts) -> None:
    if facts.outside_luoyang is None:
        result.add("hukou", False, _("Household registration: not filled in the profile"))
    elif facts.outside_luoyang:
        result.add("hukou", True, _("Household registration: outside Luoyang"))
    else:
        result.add(
            "hukou", False, _("Household registration: in Luoyang (the subsidy is for graduates from elsewhere)")
        )


def _works_in_luoyang(result: RuleResult, facts: SubsidyFacts) -> None:
    result.add(
        "works_in_luoyang",
        facts.works_in_luoyang,
        _("Work: working or running a business in Luoyang")
        if facts.works_in_luoyang
        else _("Work: the profile does not say you work or run a business in Luoyang"),
    )


def _not_excluded(result: RuleResult, facts: SubsidyFacts) -> None:
    if facts.excluded_by:
        result.add(
            "not_combined",
            False,
            _("Cannot be combined with %(programmes)s for the same period")
            % {"programmes": "、".join(facts.excluded_by)},
        )


def _period_free(result: RuleResult, facts: SubsidyFacts) -> None:
    if facts.period_taken_by:
        result.add(
            "period",
            False,
            _("Months claimed: already claimed in %(references)s") % {"references": "、".join(facts.period_taken_by)},
        )


def _int(params: dict[str, Decimal], key: str) -> int:
    return int(params[key])


# --- the seven programmes -------------------------------------------------------------------


@_register(RuleCode.INTERVIEW_TRAVEL, "2026-11-1", lambda f: [c.INTERVIEW_AMOUNT, c.INTERVIEW_GRADUATION_YEARS])
def interview_travel(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """One-time, for out-of-town graduates who come to Luoyang for an interview."""
    result = RuleResult()
    _profile(result, facts)
    _outside_luoyang(result, facts)
    _graduated_within(result, facts, _int(params, c.INTERVIEW_GRADUATION_YEARS), today)
    if facts.interview_employers:
        result.add(
            "interview",
            True,
            _("Interview: invited by %(employer)s in the jobs programme") % {"employer": facts.interview_employers[0]},
        )
    elif facts.has_invitation_letter:
        result.add("interview", True, _("Interview: uploaded invitation letter (checked by staff)"))
    else:
        result.add("interview", False, _("Interview: no invitation from a Luoyang employer yet"))
    result.add(
        "once",
        facts.earlier_same_programme == 0,
        _("Once per person: not received before")
        if facts.earlier_same_programme == 0
        else _("Once per person: already applied for or received"),
    )
    _not_excluded(result, facts)
    return Outcome(result, _money(params[c.INTERVIEW_AMOUNT]))


def _wage_key(facts: SubsidyFacts) -> str:
    return c.MIN_WAGE.format(tier=facts.wage_tier)


@_register(
    RuleCode.TRAINEESHIP_LIVING,
    "2026-11-1",
    lambda f: [c.TRAINEESHIP_FACTOR, c.TRAINEESHIP_MAX_MONTHS, _wage_key(f)],
)
def traineeship_living(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """Monthly, claimed by a traineeship base per trainee: the factor (80%) of the minimum
    wage in force that month for the base's district tier, up to the configured months."""
    result = RuleResult()
    result.add(
        "base",
        facts.organisation_is_base,
        _("Employer: a designated traineeship base")
        if facts.organisation_is_base
        else _("Employer: not a designated traineeship base"),
    )
    hire = facts.hire
    max_months = _int(params, c.TRAINEESHIP_MAX_MONTHS)
    if hire is None or hire.position_kind != "traineeship" or hire.hired_on is None:
        result.add("trainee", False, _("Trainee: no traineeship of this graduate recorded in the jobs programme"))
    else:
        start = hire.hired_on.replace(day=1)
        last = months_later(start, max_months - 1)
        inside = start <= period_start <= last
        result.add(
            "trainee",
            inside,
            (
                _("Traineeship: from %(start)s, month %(month)s within the first %(n)d months")
                if inside
                else _("Traineeship: from %(start)s, month %(month)s outside the first %(n)d months")
            )
            % {"start": month_label(hire.hired_on), "month": month_label(period_start), "n": max_months},
        )
    started = period_start <= today
    result.add(
        "month_started",
        started,
        _("Month claimed: %(month)s") % {"month": month_label(period_start)}
        if started
        else _("Month claimed: %(month)s has not begun") % {"month": month_label(period_start)},
    )
    _not_excluded(result, facts)
    wage = params[_wage_key(facts)]
    factor = params[c.TRAINEESHIP_FACTOR]
    amount = _money(wage * factor)
    result.add(
        "amount",
        True,
        _("Amount: %(factor)s%% of the minimum wage %(wage)s (tier %(tier)d, %(month)s) = %(amount)s")
        % {
            "factor": f"{(factor * 100).normalize():f}",
            "wage": f"{wage.normalize():f}",
            "tier": facts.wage_tier,
            "month": month_label(period_start),
            "amount": amount,
        },
    )
    return Outcome(result, amount)


@_register(RuleCode.EMPLOYER_HIRING, "2026-11-2", lambda f: [c.HIRING_AMOUNT, c.HIRING_GRADUATION_YEARS])
def employer_hiring(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """Per hire recorded in jobs, for private employers hiring recent graduates."""
    result = RuleResult()
    result.add(
        "verified",
        facts.organisation_verified,
        _("Employer: verified") if facts.organisation_verified else _("Employer: not verified yet"),
    )
    result.add(
        "private",
        facts.organisation_private,
        _("Employer: a private enterprise")
        if facts.organisation_private
        else _("Employer: only private enterprises receive this subsidy"),
    )
    if facts.hire is None or facts.hire.hired_on is None:
        result.add("hire", False, _("Hire: no hire of this graduate recorded in the jobs programme"))
    else:
        result.add("hire", True, _("Hire: recorded on %(date)s") % {"date": facts.hire.hired_on.isoformat()})
    hired_on = facts.hire.hired_on if facts.hire is not None else None
    _graduated_within(result, facts, _int(params, c.HIRING_GRADUATION_YEARS), today, at_hire=hired_on)
    _not_excluded(result, facts)
    return Outcome(result, _money(params[c.HIRING_AMOUNT]))


@_register(RuleCode.RENT_SUBSIDY, "2026-11-2", lambda f: [c.RENT_MONTHLY_AMOUNT, c.RENT_GRADUATION_YEARS])
def rent_subsidy(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """Monthly amount for graduates renting in Luoyang, not while a talent-apartment lease
    is rent-free."""
    result = RuleResult()
    _profile(result, facts)
    _graduated_within(result, facts, _int(params, c.RENT_GRADUATION_YEARS), today)
    _works_in_luoyang(result, facts)
    months = int(facts.details.get("months") or 0)
    if not 1 <= months <= 12:
        result.add("months", False, _("Months: choose 1 to 12 months"))
        months = 0
    if facts.rent_free_until and facts.rent_free_until >= period_start:
        result.add(
            "no_rent_free_lease",
            False,
            _("Housing: rent-free in a talent apartment until %(date)s (no rent subsidy meanwhile)")
            % {"date": facts.rent_free_until.isoformat()},
        )
    else:
        result.add("no_rent_free_lease", True, _("Housing: no rent-free talent apartment"))
    _period_free(result, facts)
    _not_excluded(result, facts)
    return Outcome(result, _money(params[c.RENT_MONTHLY_AMOUNT] * months))


@_register(RuleCode.INCUBATION_RENT, "2026-11-2", lambda f: [c.STARTUP_GRADUATION_YEARS, c.INCUBATION_MAX_MONTHS])
def incubation_rent(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """Rent waiver for a young graduate's start-up in an incubator: at most the configured
    months (3 years) per business in total."""
    result = RuleResult()
    _profile(result, facts)
    _graduated_within(result, facts, _int(params, c.STARTUP_GRADUATION_YEARS), today)
    business = (facts.details.get("business_name") or "").strip()
    code = (facts.details.get("credit_code") or "").strip()
    result.add(
        "business",
        bool(business and code),
        _("Business: %(name)s (%(code)s)") % {"name": business, "code": code}
        if business and code
        else _("Business: give its name and unified social credit code"),
    )
    months = int(facts.details.get("months") or 0)
    rent = Decimal(str(facts.details.get("monthly_rent") or 0))
    max_months = _int(params, c.INCUBATION_MAX_MONTHS)
    left = max(0, max_months - facts.incubation_months_used)
    ok = 1 <= months <= left
    result.add(
        "months",
        ok,
        _("Waiver months: %(asked)d asked, %(left)d of %(max)d left for this business")
        % {"asked": months, "left": left, "max": max_months},
    )
    result.add(
        "rent",
        rent > 0,
        _("Incubator rent: %(rent)s a month") % {"rent": rent} if rent > 0 else _("Incubator rent: missing"),
    )
    _period_free(result, facts)
    _not_excluded(result, facts)
    return Outcome(result, _money(rent * months) if ok and rent > 0 else Decimal("0.00"))


@_register(RuleCode.UNIVERSITY_BASE, "2026-11-1", lambda f: [c.BASE_MIN, c.BASE_MAX])
def university_base(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """100,000–200,000 CNY for a university–enterprise base, by the scale staff assess; the
    amount shown before review is the lower end."""
    result = RuleResult()
    result.add(
        "verified",
        facts.organisation_verified,
        _("Employer: verified") if facts.organisation_verified else _("Employer: not verified yet"),
    )
    university = (facts.details.get("university") or "").strip()
    result.add(
        "university",
        bool(university),
        _("Partner university: %(name)s") % {"name": university} if university else _("Partner university: missing"),
    )
    low, high = params[c.BASE_MIN], params[c.BASE_MAX]
    result.add(
        "amount",
        True,
        _("Amount: %(low)s to %(high)s, set by staff after assessing the base's scale and results")
        % {"low": f"{low.normalize():f}", "high": f"{high.normalize():f}"},
    )
    _not_excluded(result, facts)
    return Outcome(result, _money(low))


@_register(RuleCode.STARTUP_LOAN, "2026-11-1", lambda f: [c.STARTUP_GRADUATION_YEARS])
def startup_loan(facts: SubsidyFacts, params, period_start, today) -> Outcome:
    """Eligibility for a start-up guaranteed loan and hand-off to the bank; the portal pays
    nothing."""
    result = RuleResult()
    _profile(result, facts)
    _graduated_within(result, facts, _int(params, c.STARTUP_GRADUATION_YEARS), today)
    _works_in_luoyang(result, facts)
    product = facts.details.get("product") or ""
    result.add(
        "product",
        product in c.LoanProduct.values,
        _("Loan product: %(name)s") % {"name": c.LoanProduct(product).label}
        if product in c.LoanProduct.values
        else _("Loan product: choose one"),
    )
    return Outcome(result, Decimal("0.00"))
