"""Reads of the subsidy programmes: the facts a rule reads (from the one profile, jobs,
apartments and earlier applications), the parameters in force for a period and district,
a person's own applications, staff queues limited to their districts, and budget use."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from portal.constants import DocumentKind, OrganisationKind, OrganisationStatus
from portal.models import ApplicantProfile, Document, Organisation, Parameter, User
from portal.selectors import profile_completeness, scope_to_districts
from subsidies.constants import COMMITTED_STATES, RuleCode, SubsidyStatus
from subsidies.models import LedgerEntry, Objection, Programme, SubsidyApplication
from subsidies.rules import RULES, HireFact, SubsidyFacts

__all__ = [
    "applications_for_staff",
    "applications_of",
    "budget_use",
    "notice_board",
    "objections_for_staff",
    "parameters_in_force",
    "programmes_open",
    "subsidy_facts",
]


def programmes_open(*, applicant_kind: str | None = None, on: dt.date | None = None) -> list[Programme]:
    on = on or timezone.localdate()
    qs = Programme.objects.filter(active=True)
    if applicant_kind:
        qs = qs.filter(applicant_kind=applicant_kind)
    return [p for p in qs if p.is_open_on(on)]


def parameters_in_force(
    *, keys: Iterable[str], on: dt.date, district_id: int | None, rows: list[Parameter] | None = None
) -> dict[str, Decimal]:
    """The value of each key in force on ``on``: the district's own row first, then the
    city-wide one. ``rows`` lets a batch load all rows of the keys once."""
    keys = list(dict.fromkeys(keys))
    if rows is None:
        rows = list(Parameter.objects.filter(key__in=keys, effective_from__lte=on))
    best: dict[tuple[str, bool], Parameter] = {}
    for row in rows:
        if row.key not in keys or row.effective_from > on:
            continue
        if row.district_id is not None and row.district_id != district_id:
            continue
        slot = (row.key, row.district_id is not None)
        if slot not in best or row.effective_from > best[slot].effective_from:
            best[slot] = row
    values = {}
    for key in keys:
        row = best.get((key, True)) or best.get((key, False))
        if row is None:
            raise LookupError(f"No value of parameter {key!r} is in force on {on}.")
        values[key] = row.value
    return values


def _rent_free_until(user: User, on: dt.date) -> dt.date | None:
    from apartments.constants import LeaseStatus, ProjectKind
    from apartments.models import Lease

    lease = (
        Lease.objects.filter(
            tenant=user,
            status=LeaseStatus.ACTIVE,
            unit__project__kind=ProjectKind.TALENT_APARTMENT,
            rent_free_months__gt=0,
        )
        .order_by("-start")
        .first()
    )
    if lease is None:
        return None
    until = lease.rent_free_until - dt.timedelta(days=1)
    return until if until >= on else None


def _hire(job_application_id: int | None) -> HireFact | None:
    if not job_application_id:
        return None
    from jobs.constants import ApplicationStatus
    from jobs.models import JobApplication

    row = (
        JobApplication.objects.filter(pk=job_application_id, status=ApplicationStatus.HIRED)
        .values("pk", "position__organisation_id", "position__kind", "hired_on")
        .first()
    )
    if row is None:
        return None
    return HireFact(row["pk"], row["position__organisation_id"], row["position__kind"], row["hired_on"])


def _interview_employers(user: User) -> tuple[str, ...]:
    from jobs.models import Interview

    names = Interview.objects.filter(application__applicant=user).values_list(
        "application__position__organisation__name", flat=True
    )
    return tuple(dict.fromkeys(names))


def subsidy_facts(
    *,
    programme: Programme,
    applicant: User,
    beneficiary: User | None,
    organisation: Organisation | None,
    job_application_id: int | None,
    details: dict,
    period_start: dt.date,
    exclude_application_id: int | None = None,
) -> SubsidyFacts:
    """Everything the programme's rule reads, for the person concerned."""
    person = beneficiary or applicant
    profile = ApplicantProfile.objects.filter(user=person).select_related("district").first()
    earlier = SubsidyApplication.objects.filter(programme=programme, beneficiary=person).exclude(
        status__in=[SubsidyStatus.WITHDRAWN, SubsidyStatus.REJECTED, SubsidyStatus.DRAFT]
    )
    if exclude_application_id:
        earlier = earlier.exclude(pk=exclude_application_id)
    facts = {
        "details": details or {},
        "earlier_same_programme": earlier.count() if programme.rule_code == RuleCode.INTERVIEW_TRAVEL else 0,
    }
    if profile is not None:
        facts.update(
            profile_missing=tuple(profile_completeness(profile=profile).missing) if person == applicant else (),
            outside_luoyang=profile.is_from_outside_luoyang,
            graduation_date=profile.graduation_date,
            works_in_luoyang=profile.works_in_luoyang,
        )
    else:
        facts["profile_missing"] = ("—",)
    if programme.rule_code == RuleCode.INTERVIEW_TRAVEL:
        facts["interview_employers"] = _interview_employers(person)
        facts["has_invitation_letter"] = Document.objects.filter(
            owner=person, kind=DocumentKind.INVITATION_LETTER
        ).exists()
    if organisation is not None:
        facts.update(
            organisation_verified=organisation.status == OrganisationStatus.VERIFIED,
            organisation_private=organisation.kind == OrganisationKind.PRIVATE,
            organisation_is_base=_is_base(organisation),
            wage_tier=organisation.district.wage_tier if organisation.district_id else 1,
        )
        hire = _hire(job_application_id)
        facts["hire"] = hire if hire and hire.organisation_id == organisation.pk else None
    if programme.rule_code == RuleCode.RENT_SUBSIDY:
        facts["rent_free_until"] = _rent_free_until(person, period_start)
    if programme.rule_code == RuleCode.INCUBATION_RENT:
        facts["incubation_months_used"] = _incubation_months_used(
            programme, (details or {}).get("credit_code", ""), exclude_application_id
        )
    facts["excluded_by"] = _excluded_by(programme, person, period_start)
    return SubsidyFacts(**facts)


def _is_base(organisation: Organisation) -> bool:
    from jobs.models import TraineeshipBase

    return TraineeshipBase.objects.filter(organisation=organisation, active=True).exists()


def _incubation_months_used(programme: Programme, credit_code: str, exclude_application_id: int | None) -> int:
    if not credit_code:
        return 0
    qs = SubsidyApplication.objects.filter(
        programme=programme, details__credit_code=credit_code, status__in=COMMITTED_STATES
    ).exclude(pk=exclude_application_id)
    return sum(int(d.get("months") or 0) for d in qs.values_list("details", flat=True))


def _excluded_by(programme: Programme, person: User, period_start: dt.date) -> tuple[str, ...]:
    excluded = list(programme.excludes.all())
    if not excluded:
        return ()
    hits = (
        SubsidyApplication.objects.filter(
            programme__in=excluded,
            beneficiary=person,
            status__in=COMMITTED_STATES,
            period_start__lte=period_start,
            period_end__gte=period_start,
        )
        .select_related("programme")
        .distinct()
    )
    return tuple(dict.fromkeys(app.programme.name for app in hits))


def _related(qs: QuerySet[SubsidyApplication]) -> QuerySet[SubsidyApplication]:
    return qs.select_related("programme", "organisation", "district", "beneficiary__profile", "applicant")


def applications_of(*, user: User) -> QuerySet[SubsidyApplication]:
    """A graduate's own applications and the claims of the organisations they belong to."""
    orgs = Organisation.objects.filter(memberships__user=user).values("pk")
    return _related(SubsidyApplication.objects.filter(Q(applicant=user) | Q(organisation__in=orgs)))


def applications_for_staff(*, user: User) -> QuerySet[SubsidyApplication]:
    return scope_to_districts(_related(SubsidyApplication.objects.all()), user)


def objections_for_staff(*, user: User) -> QuerySet[Objection]:
    return scope_to_districts(Objection.objects.select_related("application__programme"), user, "application__district")


def notice_board(*, on: dt.date | None = None) -> QuerySet[SubsidyApplication]:
    """Applications in public notice (公示), for everyone signed in to read and object to."""
    return _related(SubsidyApplication.objects.filter(status=SubsidyStatus.NOTICE)).order_by("notice_ends_on", "pk")


def budget_use(*, year: int, programmes: Iterable[Programme] | None = None) -> list[dict]:
    """Per programme: the yearly budget, the money committed (approved, in notice, payable,
    paid) and the money paid."""
    programmes = list(programmes if programmes is not None else Programme.objects.all())
    entries = (
        LedgerEntry.objects.filter(budget_year=year, released=False)
        .values("programme_id")
        .annotate(committed=Sum("amount"), paid=Sum("amount", filter=Q(paid_at__isnull=False)))
    )
    by_programme = defaultdict(dict)
    for row in entries:
        by_programme[row["programme_id"]] = row
    rows = []
    for p in programmes:
        row = by_programme.get(p.pk, {})
        committed = row.get("committed") or Decimal("0")
        paid = row.get("paid") or Decimal("0")
        rows.append(
            {
                "programme": p,
                "budget": p.yearly_budget,
                "committed": committed,
                "paid": paid,
                "left": p.yearly_budget - committed,
                "percent": round(100 * committed / p.yearly_budget) if p.yearly_budget else 0,
            }
        )
    return rows


def rule_parameter_keys(*, programme: Programme, facts: SubsidyFacts) -> list[str]:
    return RULES[programme.rule_code].parameter_keys(facts)
