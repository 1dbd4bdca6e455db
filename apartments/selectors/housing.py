"""Reads of talent apartments and affordable rentals that pages, the API and the admin share:
live vacancy counts, the facts a rule reads, a graduate's own applications, offers and
leases, staff queues limited to their districts, results with masked names, and figures."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apartments import constants as c
from apartments.constants import (
    ACTIVE_HOUSING_STATES,
    HousingApplicationStatus,
    LeaseStatus,
    OfferStatus,
    RoundStatus,
    UnitState,
)
from apartments.models import (
    AllocationRound,
    HousingApplication,
    HousingOffer,
    HousingProject,
    Lease,
    LeaseRecheck,
    RoundUnitType,
    UnitType,
)
from apartments.rules.housing import HousingFacts, HousingParams, LeaseParams
from portal.models import ApplicantProfile, User
from portal.selectors import parameter_value, profile_completeness, scope_to_districts
from portal.validators import mask_name

__all__ = [
    "active_application",
    "open_offers_due",
    "round_public",
    "waiting_for_review",
    "applications_for_staff",
    "applications_of",
    "housing_facts",
    "housing_params",
    "lease_params",
    "leases_for_staff",
    "leases_of",
    "offers_of",
    "occupancy_by_project",
    "project_detail",
    "projects_public",
    "rechecks_waiting",
    "round_draw_input",
    "round_public_results",
    "rounds_for_staff",
    "rounds_open_of",
    "unit_types_with_vacancies",
]


def _vacancies():
    return Count("units", filter=Q(units__state=UnitState.VACANT), distinct=True)


def projects_public(*, district_code: str | None = None, kind: str | None = None) -> QuerySet[HousingProject]:
    """Published projects with their live vacancy count (no cache: applicants see the
    counts as they are) and the types prefetched with theirs."""
    qs = (
        HousingProject.objects.filter(published=True)
        .select_related("district")
        .annotate(vacant_units=_vacancies(), total_units=Count("units", distinct=True))
        .prefetch_related(
            Prefetch("unit_types", queryset=unit_types_with_vacancies()),
            Prefetch("photos"),
            Prefetch(
                "rounds",
                queryset=AllocationRound.objects.filter(status=RoundStatus.OPEN).order_by("closes_at"),
                to_attr="open_rounds",
            ),
        )
    )
    if district_code:
        qs = qs.filter(district__code=district_code)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("district__sort_order", "name")


def unit_types_with_vacancies() -> QuerySet[UnitType]:
    return UnitType.objects.annotate(
        vacant_units=Count("units", filter=Q(units__state=UnitState.VACANT)), total_units=Count("units")
    ).order_by("-area", "pk")


def project_detail(*, pk: int) -> HousingProject | None:
    return projects_public().filter(pk=pk).first()


def rounds_open_of(*, project: HousingProject) -> list[AllocationRound]:
    """Rounds of the project the public sees: published ones still taking applications or
    with results."""
    return list(
        AllocationRound.objects.filter(project=project)
        .exclude(status=RoundStatus.DRAFT)
        .prefetch_related(Prefetch("unit_counts", queryset=RoundUnitType.objects.select_related("unit_type")))
        .order_by("-opens_at")
    )


def housing_params(*, on: dt.date, district_id: int | None) -> HousingParams:
    return HousingParams(
        graduation_years=int(parameter_value(key=c.HOUSING_GRADUATION_YEARS, on=on, district_id=district_id, default=3))
    )


def lease_params(*, on: dt.date, district_id: int | None) -> LeaseParams:
    def value(key: str, default: int) -> int:
        return int(parameter_value(key=key, on=on, district_id=district_id, default=default))

    return LeaseParams(
        lease_months=value(c.HOUSING_LEASE_MONTHS, 12),
        talent_rent_free_months=value(c.HOUSING_TALENT_RENT_FREE_MONTHS, 36),
        affordable_rent_free_months=value(c.HOUSING_AFFORDABLE_RENT_FREE_MONTHS, 3),
        reduced_rent_percent=value(c.HOUSING_REDUCED_RENT_PERCENT, 50),
    )


def housing_facts(*, user: User, no_home_declared: bool | None = None) -> HousingFacts:
    profile = ApplicantProfile.objects.filter(user=user).first()
    has_lease = Lease.objects.filter(tenant=user, status=LeaseStatus.ACTIVE).exists()
    if profile is None:
        return HousingFacts(
            profile_missing=(str(_("your profile (not filled in yet)")),),
            education_level="",
            graduation_date=None,
            outside_luoyang=None,
            works_in_luoyang=False,
            no_home_declared=no_home_declared,
            has_active_lease=has_lease,
        )
    return HousingFacts(
        profile_missing=tuple(profile_completeness(profile=profile).missing),
        education_level=profile.education_level,
        graduation_date=profile.graduation_date,
        outside_luoyang=profile.is_from_outside_luoyang,
        works_in_luoyang=profile.works_in_luoyang,
        no_home_declared=no_home_declared,
        has_active_lease=has_lease,
    )


def _application_related(qs: QuerySet[HousingApplication]) -> QuerySet[HousingApplication]:
    return qs.select_related("round__project__district", "applicant__profile").prefetch_related(
        "unit_types",
        Prefetch("offers", queryset=HousingOffer.objects.select_related("unit__unit_type").order_by("-created_at")),
    )


def applications_of(*, user: User) -> QuerySet[HousingApplication]:
    return _application_related(HousingApplication.objects.filter(applicant=user))


def applications_for_staff(*, user: User) -> QuerySet[HousingApplication]:
    return scope_to_districts(_application_related(HousingApplication.objects.all()), user, "round__project__district")


def rounds_for_staff(*, user: User) -> QuerySet[AllocationRound]:
    return scope_to_districts(AllocationRound.objects.select_related("project__district"), user, "project__district")


def offers_of(*, user: User) -> QuerySet[HousingOffer]:
    return HousingOffer.objects.filter(application__applicant=user).select_related(
        "unit__unit_type", "unit__project", "application__round"
    )


def leases_of(*, user: User) -> QuerySet[Lease]:
    return Lease.objects.filter(tenant=user).select_related("unit__unit_type", "unit__project__district")


def leases_for_staff(*, user: User) -> QuerySet[Lease]:
    return scope_to_districts(
        Lease.objects.select_related("unit__unit_type", "unit__project__district", "tenant__profile"),
        user,
        "unit__project__district",
    )


def rechecks_waiting(*, user: User) -> QuerySet[LeaseRecheck]:
    return LeaseRecheck.objects.filter(lease__tenant=user, answered_at__isnull=True).select_related(
        "lease__unit__project"
    )


def round_public(*, pk: int) -> AllocationRound | None:
    """A round the public may see: not a draft, of a published project."""
    return (
        AllocationRound.objects.filter(pk=pk, project__published=True)
        .exclude(status=RoundStatus.DRAFT)
        .select_related("project__district")
        .first()
    )


def round_draw_input(*, round: AllocationRound) -> dict:
    """What the lottery was fed, publishable as is: application numbers with their list and
    group, the groups' order and the public value. No names."""
    rows = (
        HousingApplication.objects.filter(round=round, rank__isnull=False)
        .order_by("applicant_list", "rank")
        .values("pk", "round_id", "applicant_list", "bucket", "rank", "bucket_rank", "ticket")
    )
    return {
        "round": round.pk,
        "public_value": round.public_seed,
        "source": round.seed_source,
        "groups": round.buckets,
        "entries": [
            {
                "reference": f"R{r['round_id']}-{r['pk']:05d}",
                "list": r["applicant_list"],
                "group": r["bucket"],
                "rank": r["rank"],
                "group_rank": r["bucket_rank"],
                "ticket": r["ticket"],
            }
            for r in rows
        ],
    }


def round_public_results(*, round: AllocationRound) -> dict[str, list[dict]]:
    """Ranks per list with masked names and masked ID numbers, and the outcome so far."""
    rows = (
        HousingApplication.objects.filter(round=round, rank__isnull=False)
        .select_related("applicant__profile")
        .order_by("applicant_list", "rank")
    )
    results: dict[str, list[dict]] = defaultdict(list)
    for app in rows:
        profile = getattr(app.applicant, "profile", None)
        results[app.applicant_list].append(
            {
                "reference": app.reference,
                "rank": app.rank,
                "bucket": app.bucket,
                "bucket_label": c.PriorityBucket(app.bucket).label if app.bucket else "",
                "bucket_rank": app.bucket_rank,
                "name": mask_name(profile.real_name) if profile else "",
                "id_number": profile.id_number_masked if profile else "",
                "status": app.status,
                "status_label": app.get_status_display(),
            }
        )
    return dict(results)


def occupancy_by_project(*, user: User) -> list[dict]:
    """Units per state for each project the staff member oversees, for the figures page."""
    projects = scope_to_districts(HousingProject.objects.select_related("district"), user).annotate(
        total=Count("units"),
        vacant=Count("units", filter=Q(units__state=UnitState.VACANT)),
        offered=Count("units", filter=Q(units__state=UnitState.OFFERED)),
        let=Count("units", filter=Q(units__state=UnitState.LET)),
        maintenance=Count("units", filter=Q(units__state=UnitState.MAINTENANCE)),
    )
    rows = []
    for p in projects.order_by("district__sort_order", "name"):
        rows.append(
            {
                "project": p,
                "district": p.district.name,
                "total": p.total,
                "vacant": p.vacant,
                "offered": p.offered,
                "let": p.let,
                "maintenance": p.maintenance,
                "occupancy": round(100 * p.let / p.total) if p.total else 0,
            }
        )
    return rows


def active_application(*, user: User, round: AllocationRound) -> HousingApplication | None:
    return HousingApplication.objects.filter(round=round, applicant=user, status__in=ACTIVE_HOUSING_STATES).first()


def open_offers_due(*, now: dt.datetime | None = None) -> QuerySet[HousingOffer]:
    return HousingOffer.objects.filter(status=OfferStatus.OFFERED, deadline__lt=now or timezone.now())


def waiting_for_review(*, round: AllocationRound) -> int:
    return HousingApplication.objects.filter(round=round, status=HousingApplicationStatus.SUBMITTED).count()
