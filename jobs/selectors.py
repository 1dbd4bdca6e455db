"""Reads of the jobs programme shared by pages, the API and the admin."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobs.constants import ApplicationStatus, PositionKind, PositionStatus, SortOrder
from jobs.models import JobApplication, Position, TraineeshipBase
from portal.constants import EDUCATION_RANK
from portal.models import AuditEntry, Organisation, User
from portal.selectors import parameter_value, scope_to_districts


@dataclass
class PositionFilters:
    q: str = ""
    kind: str = ""
    district: str = ""  # district code
    industry: str = ""
    education: str = ""
    salary_min: int | None = None
    base_only: bool = False
    sort: str = SortOrder.NEWEST


def positions_search(*, filters: PositionFilters, today: dt.date | None = None) -> QuerySet[Position]:
    """Published positions open today, matching every word of ``q`` (Chinese or English)
    in the title, employer, majors, address or description, plus the filters."""
    today = today or timezone.localdate()
    qs = Position.objects.filter(status=PositionStatus.PUBLISHED, deadline__gte=today).select_related(
        "organisation", "district"
    )
    for term in filters.q.split()[:5]:
        # search_text is stored in lower case: a case-sensitive LIKE on the lower-cased
        # word matches regardless of case and can use the trigram index.
        qs = qs.filter(search_text__contains=term[:50].lower())
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.district:
        qs = qs.filter(district__code=filters.district)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.education:
        # "My education": positions that ask for it, for less, or for nothing in particular.
        rank = EDUCATION_RANK.get(filters.education, 0)
        levels = [str(level) for level, r in EDUCATION_RANK.items() if r <= rank]
        qs = qs.filter(Q(education_level="") | Q(education_level__in=levels))
    if filters.salary_min:
        qs = qs.filter(
            Q(salary_max__gte=filters.salary_min) | Q(salary_max__isnull=True, salary_min__gte=filters.salary_min)
        )
    if filters.base_only:
        qs = qs.filter(organisation__traineeship_base__active=True)
    if filters.sort == SortOrder.DEADLINE:
        qs = qs.order_by("deadline", "-id")
    elif filters.sort == SortOrder.SALARY:
        # Matches the partial index position_published_pay, so the first page is read in order.
        qs = qs.annotate(pay=Coalesce("salary_max", "salary_min", Value(0))).order_by("-pay", "-id")
    else:
        qs = qs.order_by("-published_at", "-id")
    return qs


def filters_querystring(filters: PositionFilters) -> str:
    """The filters as a query string (without the page), for pagination links."""
    params = {k: v for k, v in dataclasses.asdict(filters).items() if v not in ("", None, False)}
    if params.get("sort") == SortOrder.NEWEST:
        params.pop("sort")
    if params.get("base_only"):
        params["base_only"] = "on"
    return urlencode(params)


def search_cache_key(*, filters: PositionFilters | list, page: str, language: str) -> str:
    """One key per search (filters or the raw query pairs), page, language and day."""
    query = filters_querystring(filters) if isinstance(filters, PositionFilters) else urlencode(filters)
    raw = f"{language}|{page}|{query}|{timezone.localdate().isoformat()}"
    return "jobs:search:" + hashlib.sha256(raw.encode()).hexdigest()


def position_public(*, pk: int) -> Position | None:
    return (
        Position.objects.select_related("organisation", "district")
        .filter(pk=pk, status=PositionStatus.PUBLISHED)
        .first()
    )


def positions_of_organisation(*, organisation: Organisation) -> QuerySet[Position]:
    return (
        Position.objects.filter(organisation=organisation)
        .select_related("district")
        .annotate(applicant_count=Count("applications"))
        .order_by("-created_at")
    )


def position_status_counts(*, organisation: Organisation) -> dict[str, int]:
    rows = Position.objects.filter(organisation=organisation).values("status").annotate(n=Count("id"))
    counts = {s.value: 0 for s in PositionStatus}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts


def positions_for_member(*, user: User) -> QuerySet[Position]:
    return Position.objects.filter(organisation__memberships__user=user).select_related("organisation", "district")


def applications_for_position(*, position: Position) -> QuerySet[JobApplication]:
    return (
        JobApplication.objects.filter(position=position)
        .select_related("applicant__profile", "cv")
        .prefetch_related("shared_documents")
        .order_by("-created_at")
    )


def applications_for_member(*, user: User) -> QuerySet[JobApplication]:
    return JobApplication.objects.filter(position__organisation__memberships__user=user).select_related(
        "position__organisation", "applicant__profile", "cv"
    )


def applications_of(*, user: User) -> QuerySet[JobApplication]:
    return (
        JobApplication.objects.filter(applicant=user)
        .select_related("position__organisation", "position__district")
        .prefetch_related(Prefetch("interviews"))
        .order_by("-created_at")
    )


def history_for(objects: list[Any]) -> dict[int, list[AuditEntry]]:
    """Status history of many records in one query, keyed by primary key. Each entry
    carries ``from_label`` and ``to_label``: the statuses in the reader's language."""
    if not objects:
        return {}
    ct = ContentType.objects.get_for_model(type(objects[0]))
    history: dict[int, list[AuditEntry]] = defaultdict(list)
    entries = AuditEntry.objects.filter(content_type=ct, object_id__in=[str(o.pk) for o in objects]).order_by(
        "created_at", "id"
    )
    for entry in entries:
        entry.content_type = ct  # the labels read the model from it: no query per entry
        history[int(entry.object_id)].append(entry)
    return history


def positions_for_staff(*, user: User) -> QuerySet[Position]:
    return scope_to_districts(Position.objects.select_related("organisation", "district"), user)


def traineeship_bases() -> QuerySet[TraineeshipBase]:
    today = timezone.localdate()
    return (
        TraineeshipBase.objects.filter(active=True, organisation__status="verified")
        .select_related("organisation__district")
        .annotate(
            open_positions=Count(
                "organisation__positions",
                filter=Q(
                    organisation__positions__status=PositionStatus.PUBLISHED,
                    organisation__positions__kind=PositionKind.TRAINEESHIP,
                    organisation__positions__deadline__gte=today,
                ),
            )
        )
        .order_by("organisation__name")
    )


def base_catalogue(*, base: TraineeshipBase) -> QuerySet[Position]:
    return positions_search(filters=PositionFilters(kind=PositionKind.TRAINEESHIP)).filter(
        organisation=base.organisation_id
    )


@dataclass
class JobStatistics:
    year: int
    positions_target: int
    hires_target: int
    positions_total: int
    hires_total: int
    by_district: list[dict[str, Any]]
    by_kind: list[dict[str, Any]]


def job_statistics(*, user: User, year: int | None = None) -> JobStatistics:
    """Positions published and graduates hired in ``year``, by district and by kind, within
    the staff member's districts."""
    year = year or timezone.localdate().year
    positions = scope_to_districts(Position.objects.all(), user).filter(published_at__year=year)
    hires = scope_to_districts(JobApplication.objects.all(), user, "position__district").filter(
        status=ApplicationStatus.HIRED, updated_at__year=year
    )
    by_district_pos = dict(positions.values_list("district__name").annotate(n=Count("id")))
    by_district_hire = dict(hires.values_list("position__district__name").annotate(n=Count("id")))
    by_kind_pos = dict(positions.values_list("kind").annotate(n=Count("id")))
    by_kind_hire = dict(hires.values_list("position__kind").annotate(n=Count("id")))
    districts = sorted(set(by_district_pos) | set(by_district_hire))
    return JobStatistics(
        year=year,
        positions_target=int(parameter_value(key="jobs-positions-target", on=dt.date(year, 12, 31), default=0)),
        hires_target=int(parameter_value(key="jobs-hires-target", on=dt.date(year, 12, 31), default=0)),
        positions_total=sum(by_district_pos.values()),
        hires_total=sum(by_district_hire.values()),
        by_district=[
            {"name": d, "positions": by_district_pos.get(d, 0), "hires": by_district_hire.get(d, 0)} for d in districts
        ],
        by_kind=[
            {"name": k.label, "positions": by_kind_pos.get(k.value, 0), "hires": by_kind_hire.get(k.value, 0)}
            for k in PositionKind
        ],
    )
