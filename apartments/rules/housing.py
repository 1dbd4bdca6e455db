"""Who may apply for a talent apartment or an affordable rental, which priority group and
list they fall in, and what a lease grants (POLICY.md "Talent apartments and affordable
rentals"). Pure functions of the applicant's facts, the parameters in force and a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from apartments.constants import ApplicantList, PriorityBucket, ProjectKind
from portal.constants import EDUCATION_RANK, EducationLevel
from portal.rules import RuleResult, months_later, whole_years_between, years_later

__all__ = [
    "HousingFacts",
    "HousingParams",
    "LeaseParams",
    "applicant_list_for",
    "bucket_for",
    "housing_eligibility",
    "lease_terms",
]

TECHNICIAN_LEVELS = {EducationLevel.PREP_TECHNICIAN.value, EducationLevel.TECHNICIAN.value}


@dataclass(frozen=True)
class HousingFacts:
    profile_missing: tuple[str, ...]
    education_level: str
    graduation_date: dt.date | None
    outside_luoyang: bool | None
    works_in_luoyang: bool
    # None before applying (the declaration is signed on the application form).
    no_home_declared: bool | None
    has_active_lease: bool


@dataclass(frozen=True)
class HousingParams:
    graduation_years: int


def _education_label(level: str) -> str:
    return str(EducationLevel(level).label) if level in EducationLevel.values else level


def housing_eligibility(*, kind: str, facts: HousingFacts, params: HousingParams, today: dt.date) -> RuleResult:
    """One line per criterion in plain words, with the values used; the result records the
    parameters, so a stored decision can be explained later."""
    result = RuleResult(parameters={"graduation_years": params.graduation_years, "evaluated_on": today.isoformat()})
    if facts.profile_missing:
        result.add(
            "profile",
            False,
            _("Profile: still missing %(items)s") % {"items": "、".join(facts.profile_missing)},
        )
    else:
        result.add("profile", True, _("Profile: complete"))

    if kind == ProjectKind.TALENT_APARTMENT:
        _talent_criteria(result, facts)
    else:
        _affordable_criteria(result, facts, params, today)

    result.add(
        "no_active_lease",
        not facts.has_active_lease,
        _("Housing: no other unit of the programme rented")
        if not facts.has_active_lease
        else _("Housing: you already rent a unit of the programme"),
    )
    return result


def _talent_criteria(result: RuleResult, facts: HousingFacts) -> None:
    level = facts.education_level
    if not level:
        result.add("education", False, _("Education: not filled in your profile"))
        return
    ok = EDUCATION_RANK.get(level, 0) >= EDUCATION_RANK[EducationLevel.BACHELOR] or level in TECHNICIAN_LEVELS
    if ok:
        result.add("education", True, _("Education: %(level)s") % {"level": _education_label(level)})
    else:
        result.add(
            "education",
            False,
            _(
                "Education: %(level)s; a bachelor's degree or above, or preparatory technician or technician, is required"
            )
            % {"level": _education_label(level)},
        )


def _affordable_criteria(result: RuleResult, facts: HousingFacts, params: HousingParams, today: dt.date) -> None:
    n = params.graduation_years
    # Recent graduates go on the list of units set aside for them; others apply on the
    # general list, so this line is shown but does not decide eligibility.
    if facts.graduation_date is None:
        result.add("graduation", False, _("Graduation date: not filled in your profile"), blocking=False)
    elif facts.graduation_date > today:
        result.add(
            "graduation",
            False,
            _("Graduation: %(date)s, not graduated yet (general list)")
            % {"date": facts.graduation_date.strftime("%Y-%m")},
            blocking=False,
        )
    else:
        years = whole_years_between(facts.graduation_date, today)
        within = facts.graduation_date >= years_later(today, -n)
        if within:
            message = _("Years since graduation: %(years)d, within %(n)d (graduate list)")
        else:
            message = _("Years since graduation: %(years)d, more than %(n)d (general list)")
        result.add("graduation", within, message % {"years": years, "n": n}, blocking=False)
    result.add(
        "works_in_luoyang",
        facts.works_in_luoyang,
        _("Work: working or running a business in Luoyang")
        if facts.works_in_luoyang
        else _("Work: your profile does not say you work or run a business in Luoyang"),
    )
    if facts.no_home_declared is None:
        result.add("no_home", True, _("Home ownership: you declare owning no home in Luoyang when applying"))
    else:
        result.add(
            "no_home",
            facts.no_home_declared,
            _("Home ownership: declared owning no home in Luoyang")
            if facts.no_home_declared
            else _("Home ownership: the declaration of owning no home in Luoyang is not signed"),
        )


def applicant_list_for(*, kind: str, result: RuleResult) -> str:
    """Talent apartments have one list; an affordable-rental applicant who graduated within
    the limit is on the graduates' set-aside list, everyone else on the general list."""
    if kind == ProjectKind.TALENT_APARTMENT:
        return ApplicantList.GRADUATE
    graduation = next((c for c in result.criteria if c.code == "graduation"), None)
    return ApplicantList.GRADUATE if graduation is not None and graduation.passed else ApplicantList.GENERAL


def bucket_for(*, facts: HousingFacts, order: list[str]) -> str:
    """The first group in the round's order that describes the applicant, else "other"."""
    level = facts.education_level
    rank = EDUCATION_RANK.get(level, 0)
    tests = {
        PriorityBucket.OUT_OF_TOWN: facts.outside_luoyang is True,
        PriorityBucket.POSTGRADUATE: rank >= EDUCATION_RANK[EducationLevel.MASTER],
        PriorityBucket.BACHELOR: level == EducationLevel.BACHELOR,
        PriorityBucket.TECHNICIAN: level in TECHNICIAN_LEVELS,
        PriorityBucket.JUNIOR_COLLEGE: level == EducationLevel.JUNIOR_COLLEGE,
    }
    for code in order:
        if tests.get(code):
            return code
    return PriorityBucket.OTHER


@dataclass(frozen=True)
class LeaseParams:
    lease_months: int
    talent_rent_free_months: int  # the most a tenant gets across renewals (3 years)
    affordable_rent_free_months: int  # out-of-town graduates in affordable rentals (1–3)
    reduced_rent_percent: int  # rent after the rent-free months, as a share of the rent


def lease_terms(
    *,
    kind: str,
    outside_luoyang: bool | None,
    monthly_rent: Decimal,
    start: dt.date,
    months: int,
    rent_free_used: int,
    renewal: bool,
    params: LeaseParams,
) -> dict:
    """The terms of a lease of ``months`` from ``start``. Talent apartments are rent-free
    for up to ``talent_rent_free_months`` counted across renewals (``rent_free_used`` months
    already granted), then at the reduced rate; affordable rentals give out-of-town
    graduates 1–3 rent-free months at the start of their first lease (``rent_free_used``
    counts the months earlier affordable leases granted)."""
    if kind == ProjectKind.TALENT_APARTMENT:
        rent_free = max(0, min(months, params.talent_rent_free_months - rent_free_used))
        reduced = params.reduced_rent_percent
    else:
        # Once per tenant: not on renewals, nor on a later first lease after moving out.
        first_time = not renewal and rent_free_used == 0
        rent_free = min(months, max(0, params.affordable_rent_free_months)) if outside_luoyang and first_time else 0
        reduced = 100
    return {
        "start": start,
        "end": months_later(start, months),
        "monthly_rent": monthly_rent,
        "rent_free_months": rent_free,
        "reduced_rent_percent": reduced,
        "parameters": {
            "lease_months": months,
            "talent_rent_free_months": params.talent_rent_free_months,
            "affordable_rent_free_months": params.affordable_rent_free_months,
            "reduced_rent_percent": params.reduced_rent_percent,
            "rent_free_used_before": rent_free_used,
        },
    }
