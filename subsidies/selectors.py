"""Reads of the subsidy programmes: the facts a rule reads (from the one profile, jobs,
apartments and earlier applications), the parameters in force for a period and district,
a person's own applications, staff queues limited to their districts, and budget use."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from portal.constants import DocumentKind, OrganisationKind, OrganisationStatus
from portal.models import ApplicantProfile, Consent, Document, Organisation, Parameter, User
from portal.rules import months_later
from portal.selectors import profile_completeness, scope_to_districts
from subsidies.constants import COMMITTED_STATES, PeriodKind, RuleCode, SubsidyStatus
from subsidies.models import LedgerEntry, Objection, Programme, SubsidyApplication
from subsidies.rules import RULES, HireFact, SubsidyFacts, month_label

__all__ = [
    "applications_for_staff",
    "applications_of",
    "budget_use",
    "notice_board",
    "objections_for_staff",
    "parameters_in_force",
    "programmes_open",
    "subsidy_facts",
    "subsidy_facts_many",
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


@dataclass(frozen=True)
class FactRequest:
    """One application (or preview) whose facts a rule needs: the person concerned is the
    applicant, or the trainee or hire an employer claims for."""

    programme: Programme
    applicant_id: int
    person_id: int
    organisation: Organisation | None
    job_application_id: int | None
    details: dict
    period_start: dt.date
    period_end: dt.date
    exclude_application_id: int | None = None


def subsidy_facts(
    *,
    programme: Programme,
    applicant: User,
    beneficiary: User | None,
    organisation: Organisation | None,
    job_application_id: int | None,
    details: dict,
    period_start: dt.date,
    period_end: dt.date | None = None,
    exclude_application_id: int | None = None,
) -> SubsidyFacts:
    """Everything the programme's rule reads, for the person concerned."""
    person = beneficiary or applicant
    request = FactRequest(
        programme=programme,
        applicant_id=applicant.pk,
        person_id=person.pk,
        organisation=organisation,
        job_application_id=job_application_id,
        details=details or {},
        period_start=period_start,
        period_end=period_end or period_start,
        exclude_application_id=exclude_application_id,
    )
    return facts_for(requests=[request])[0]


def subsidy_facts_many(*, applications: Iterable[SubsidyApplication]) -> dict[int, SubsidyFacts]:
    """The facts of many stored applications with a fixed number of queries (a batch of
    checks reads them together). The applications come with ``programme`` and
    ``organisation__district`` loaded."""
    applications = list(applications)
    requests = [
        FactRequest(
            programme=app.programme,
            applicant_id=app.applicant_id,
            person_id=app.beneficiary_id or app.applicant_id,
            organisation=app.organisation if app.organisation_id else None,
            job_application_id=app.job_application_id,
            details=app.details or {},
            period_start=app.period_start,
            period_end=app.period_end,
            exclude_application_id=app.pk,
        )
        for app in applications
    ]
    return {app.pk: facts for app, facts in zip(applications, facts_for(requests=requests), strict=True)}


def facts_for(*, requests: list[FactRequest]) -> list[SubsidyFacts]:
    """The facts of each request, read for all of them at once: one query per kind of
    fact (profiles, documents, consents, interviews, hires, bases, leases, earlier
    applications), whatever the number of requests."""
    if not requests:
        return []
    persons = {r.person_id for r in requests}
    profiles = {p.user_id: p for p in ApplicantProfile.objects.filter(user_id__in=persons)}
    # The applicant's own profile must be complete; a trainee's or hire's is the employer's
    # business, not a criterion of the employer's claim.
    own = {r.person_id for r in requests if r.person_id == r.applicant_id and r.person_id in profiles}
    by_rule: dict[str, list[FactRequest]] = defaultdict(list)
    for r in requests:
        by_rule[r.programme.rule_code].append(r)
    interviewed = {r.person_id for r in by_rule[RuleCode.INTERVIEW_TRAVEL]}

    kinds: dict[int, set[str]] = defaultdict(set)
    if own or interviewed:
        rows = (
            Document.objects.filter(
                owner_id__in=own | interviewed,
                kind__in=[DocumentKind.DEGREE_CERTIFICATE, DocumentKind.INVITATION_LETTER],
            )
            .values_list("owner_id", "kind")
            .distinct()
        )
        for owner_id, kind in rows:
            kinds[owner_id].add(kind)
    consents = _current_consents(own)
    interview_employers = _interview_employers(interviewed)
    earlier = _earlier_applications(by_rule[RuleCode.INTERVIEW_TRAVEL])
    hires = _hires({r.job_application_id for r in requests if r.organisation is not None and r.job_application_id})
    bases = _bases({r.organisation.pk for r in requests if r.organisation is not None})
    leases = _rent_free_leases({r.person_id for r in by_rule[RuleCode.RENT_SUBSIDY]})
    incubation = _incubation_applications(by_rule[RuleCode.INCUBATION_RENT])
    taken = _periods_taken(by_rule[RuleCode.RENT_SUBSIDY] + by_rule[RuleCode.INCUBATION_RENT])
    exclusions = _exclusions(requests)

    result = []
    for r in requests:
        facts: dict = {"details": r.details}
        profile = profiles.get(r.person_id)
        if profile is not None:
            facts.update(
                profile_missing=tuple(
                    profile_completeness(
                        profile=profile, consent=r.person_id in consents, documents=kinds[r.person_id]
                    ).missing
                )
                if r.person_id in own
                else (),
                outside_luoyang=profile.is_from_outside_luoyang,
                graduation_date=profile.graduation_date,
                works_in_luoyang=profile.works_in_luoyang,
            )
        else:
            facts["profile_missing"] = ("—",)
        if r.programme.rule_code == RuleCode.INTERVIEW_TRAVEL:
            facts["interview_employers"] = interview_employers.get(r.person_id, ())
            facts["has_invitation_letter"] = DocumentKind.INVITATION_LETTER in kinds[r.person_id]
            facts["earlier_same_programme"] = sum(
                1 for pk in earlier.get((r.programme.pk, r.person_id), ()) if pk != r.exclude_application_id
            )
        if r.organisation is not None:
            org = r.organisation
            hire = hires.get(r.job_application_id)
            facts.update(
                organisation_verified=org.status == OrganisationStatus.VERIFIED,
                organisation_private=org.kind == OrganisationKind.PRIVATE,
                organisation_is_base=org.pk in bases,
                wage_tier=org.district.wage_tier if org.district_id else 1,
                hire=hire if hire and hire.organisation_id == org.pk else None,
            )
        if r.programme.rule_code == RuleCode.RENT_SUBSIDY:
            facts["rent_free_until"] = _rent_free_until(leases.get(r.person_id, ()), r.period_start, r.period_end)
        if r.programme.rule_code == RuleCode.INCUBATION_RENT:
            code = _credit_code(r.details)
            facts["incubation_months_used"] = sum(
                months
                for pk, months in incubation.get((r.programme.pk, code), ())
                if code and pk != r.exclude_application_id
            )
        if r.programme.rule_code in (RuleCode.RENT_SUBSIDY, RuleCode.INCUBATION_RENT):
            facts["period_taken_by"] = taken(r)
        facts["excluded_by"] = exclusions(r)
        result.append(SubsidyFacts(**facts))
    return result


def _current_consents(user_ids: set[int]) -> set[int]:
    """Who has consented to the current version of the notice (as
    ``portal.selectors.has_current_consent``, for many people at once)."""
    if not user_ids:
        return set()
    return set(
        Consent.objects.filter(
            user_id__in=user_ids, version=settings.PORTAL_CONSENT_VERSION, withdrawn_at__isnull=True
        ).values_list("user_id", flat=True)
    )


def _interview_employers(user_ids: set[int]) -> dict[int, tuple[str, ...]]:
    """Employers that invited each person to an interview in the jobs programme, the
    latest first."""
    if not user_ids:
        return {}
    from jobs.models import Interview

    names: dict[int, dict[str, None]] = defaultdict(dict)
    rows = (
        Interview.objects.filter(application__applicant_id__in=user_ids)
        .order_by("-starts_at", "-pk")
        .values_list("application__applicant_id", "application__position__organisation__name")
    )
    for user_id, name in rows:
        names[user_id][name] = None
    return {user_id: tuple(found) for user_id, found in names.items()}


def _earlier_applications(requests: list[FactRequest]) -> dict[tuple[int, int], list[int]]:
    """Applications each person already holds under the programme (not drafts, withdrawn or
    rejected ones)."""
    if not requests:
        return {}
    rows = (
        SubsidyApplication.objects.filter(
            programme_id__in={r.programme.pk for r in requests}, beneficiary_id__in={r.person_id for r in requests}
        )
        .exclude(status__in=[SubsidyStatus.WITHDRAWN, SubsidyStatus.REJECTED, SubsidyStatus.DRAFT])
        .values_list("programme_id", "beneficiary_id", "pk")
    )
    found: dict[tuple[int, int], list[int]] = defaultdict(list)
    for programme_id, person_id, pk in rows:
        found[(programme_id, person_id)].append(pk)
    return found


def _hires(job_application_ids: set[int]) -> dict[int, HireFact]:
    if not job_application_ids:
        return {}
    from jobs.constants import ApplicationStatus
    from jobs.models import JobApplication

    rows = JobApplication.objects.filter(pk__in=job_application_ids, status=ApplicationStatus.HIRED).values_list(
        "pk", "position__organisation_id", "position__kind", "hired_on"
    )
    return {row[0]: HireFact(*row) for row in rows}


def _bases(organisation_ids: set[int]) -> set[int]:
    if not organisation_ids:
        return set()
    from jobs.models import TraineeshipBase

    return set(
        TraineeshipBase.objects.filter(organisation_id__in=organisation_ids, active=True).values_list(
            "organisation_id", flat=True
        )
    )


def _rent_free_leases(user_ids: set[int]) -> dict[int, list[tuple[dt.date, dt.date]]]:
    """Per person, the (first, last) rent-free days of their active talent-apartment leases."""
    if not user_ids:
        return {}
    from apartments.constants import LeaseStatus, ProjectKind
    from apartments.models import Lease

    found: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    rows = Lease.objects.filter(
        tenant_id__in=user_ids,
        status=LeaseStatus.ACTIVE,
        unit__project__kind=ProjectKind.TALENT_APARTMENT,
        rent_free_months__gt=0,
    ).values_list("tenant_id", "start", "rent_free_months")
    for tenant_id, start, months in rows:
        found[tenant_id].append((start, months_later(start, months) - dt.timedelta(days=1)))
    return found


def _rent_free_until(leases, period_start: dt.date, period_end: dt.date) -> dt.date | None:
    """The last rent-free day of a lease whose rent-free months overlap the period."""
    overlapping = [last for first, last in leases if first <= period_end and last >= period_start]
    return max(overlapping) if overlapping else None


def _incubation_applications(requests: list[FactRequest]) -> dict[tuple[int, str], list[tuple[int, int]]]:
    """Per programme and business (credit code): the (application, months) already granted."""
    codes = {_credit_code(r.details) for r in requests} - {""}
    if not codes:
        return {}
    rows = SubsidyApplication.objects.filter(
        programme_id__in={r.programme.pk for r in requests},
        details__credit_code__in=sorted(codes),
        status__in=COMMITTED_STATES,
    ).values_list("pk", "programme_id", "details")
    found: dict[tuple[int, str], list[tuple[int, int]]] = defaultdict(list)
    for pk, programme_id, details in rows:
        found[(programme_id, _credit_code(details))].append((pk, int(details.get("months") or 0)))
    return found


def _credit_code(details: dict) -> str:
    return (details.get("credit_code") or "").strip()


def _periods_taken(requests: list[FactRequest]):
    """A function giving, for a monthly claim of several months, the references of earlier
    applications (lower numbers; all of them for a preview) of the same programme and
    person, or business for the incubation waiver, whose months overlap. Drafts, withdrawn
    and rejected applications take no months."""
    if not requests:
        return lambda r: ()
    codes = {_credit_code(r.details) for r in requests if r.programme.rule_code == RuleCode.INCUBATION_RENT} - {""}
    persons = {r.person_id for r in requests if r.programme.rule_code == RuleCode.RENT_SUBSIDY}
    same = Q(beneficiary_id__in=persons) if persons else Q()
    if codes:
        business = Q(details__credit_code__in=sorted(codes))
        same = same | business if persons else business
    elif not persons:
        return lambda r: ()
    rows = (
        SubsidyApplication.objects.filter(same, programme_id__in={r.programme.pk for r in requests})
        .exclude(status__in=[SubsidyStatus.DRAFT, SubsidyStatus.WITHDRAWN, SubsidyStatus.REJECTED])
        .values_list("pk", "programme_id", "beneficiary_id", "details", "period_start", "period_end")
    )
    by_person: dict[tuple[int, int], list] = defaultdict(list)
    by_business: dict[tuple[int, str], list] = defaultdict(list)
    for pk, programme_id, person_id, details, start, end in rows:
        by_person[(programme_id, person_id)].append((pk, start, end))
        code = _credit_code(details or {})
        if code:
            by_business[(programme_id, code)].append((pk, start, end))

    def taken(r: FactRequest) -> tuple[str, ...]:
        if r.programme.rule_code == RuleCode.INCUBATION_RENT:
            candidates = by_business.get((r.programme.pk, _credit_code(r.details)), ())
        else:
            candidates = by_person.get((r.programme.pk, r.person_id), ())
        own = r.exclude_application_id
        return tuple(
            SubsidyApplication(pk=pk).reference
            for pk, start, end in sorted(candidates)
            if (own is None or pk < own) and start <= r.period_end and end >= r.period_start
        )

    return taken


def _exclusions(requests: list[FactRequest]):
    """A function giving, for a request, the names of the programmes it cannot be combined
    with that the person holds (approved or later) for an overlapping period. "Cannot be
    combined" works both ways, whichever programme row names the other."""
    programme_ids = {r.programme.pk for r in requests}
    pairs = Programme.excludes.through.objects.filter(
        Q(from_programme_id__in=programme_ids) | Q(to_programme_id__in=programme_ids)
    ).values_list("from_programme_id", "to_programme_id")
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        partners[a].add(b)
        partners[b].add(a)
    concerned = [r for r in requests if partners.get(r.programme.pk)]
    if not concerned:
        return lambda r: ()
    held: dict[int, list[tuple[int, dt.date, dt.date]]] = defaultdict(list)
    rows = SubsidyApplication.objects.filter(
        programme_id__in=set().union(*(partners[r.programme.pk] for r in concerned)),
        beneficiary_id__in={r.person_id for r in concerned},
        status__in=COMMITTED_STATES,
    ).values_list("beneficiary_id", "programme_id", "period_start", "period_end")
    for person_id, programme_id, start, end in rows:
        held[person_id].append((programme_id, start, end))
    names = Programme.objects.in_bulk({programme_id for rows in held.values() for programme_id, _s, _e in rows})

    def excluded_by(r: FactRequest) -> tuple[str, ...]:
        hits = [
            programme_id
            for programme_id, start, end in held.get(r.person_id, ())
            if programme_id in partners.get(r.programme.pk, ()) and start <= r.period_end and end >= r.period_start
        ]
        return tuple(dict.fromkeys(names[pk].name for pk in sorted(hits)))

    return excluded_by


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


def claimable_hires(*, organisations, programme: Programme) -> QuerySet:
    """Hires recorded in the jobs programme by these organisations that an employer may
    claim for: only traineeship positions for the traineeship living subsidy."""
    from jobs.constants import ApplicationStatus, PositionKind
    from jobs.models import JobApplication

    hires = (
        JobApplication.objects.filter(
            position__organisation__in=organisations, status=ApplicationStatus.HIRED, hired_on__isnull=False
        )
        .select_related("applicant__profile", "position__organisation__district")
        .order_by("-hired_on", "-pk")
    )
    if programme.rule_code == RuleCode.TRAINEESHIP_LIVING:
        hires = hires.filter(position__kind=PositionKind.TRAINEESHIP)
    return hires


def period_label(app: SubsidyApplication) -> str:
    """The period an application is for, as people write it: a month (or months), a year, a day."""
    kind = app.programme.period_kind
    if kind == PeriodKind.MONTHLY:
        start, end = month_label(app.period_start), month_label(app.period_end)
        return start if start == end else f"{start} – {end}"
    if kind == PeriodKind.YEARLY:
        return str(app.period_start.year)
    return f"{app.period_start:%Y-%m-%d}"
