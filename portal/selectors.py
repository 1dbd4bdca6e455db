"""Reads shared by pages, the API and the admin: the same rows, scoped the same way."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.constants import AuditAction, DocumentKind
from portal.models import (
    ApplicantProfile,
    AuditEntry,
    Consent,
    Document,
    Notification,
    Organisation,
    Parameter,
    User,
)
from portal.permissions import may_read_document, staff_district_ids


def district_staff(*, district_id: int | None) -> QuerySet[User]:
    """The active staff members of a district: whom a programme tells about work waiting there."""
    from portal.constants import Role

    return User.objects.filter(is_active=True, role=Role.DISTRICT_STAFF, districts=district_id)


def scope_to_districts(qs: QuerySet, user: User, district_path: str = "district") -> QuerySet:
    """Limit a queryset to the districts a staff member serves (all for city staff)."""
    ids = staff_district_ids(user)
    if ids is None:
        return qs
    return qs.filter(**{f"{district_path}__in": ids})


def profiles_for_staff(*, user: User) -> QuerySet[ApplicantProfile]:
    return scope_to_districts(ApplicantProfile.objects.select_related("user", "district"), user)


def organisations_for_staff(*, user: User) -> QuerySet[Organisation]:
    return scope_to_districts(Organisation.objects.select_related("district"), user)


def organisations_of_member(*, user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(memberships__user=user).select_related("district").order_by("-created_at")


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def documents_of(*, user: User) -> QuerySet[Document]:
    return Document.objects.filter(owner=user).order_by("-created_at")


def document_for_reader(*, reader: User, pk: int) -> Document | None:
    """The document if ``reader`` may open it: its owner, staff of the district of the
    owner's profile or of the organisation it belongs to, or whoever a programme lets read
    it (portal.permissions.register_document_reader)."""
    doc = Document.objects.select_related("owner__profile", "organisation").filter(pk=pk).first()
    if doc is None or not reader.is_authenticated:
        return None
    if doc.organisation_id is not None:
        district_id = doc.organisation.district_id
    else:
        profile = getattr(doc.owner, "profile", None)
        district_id = profile.district_id if profile else None
    return doc if may_read_document(reader, doc, district_id) else None


def has_current_consent(*, user: User) -> bool:
    return Consent.objects.filter(
        user=user, version=settings.PORTAL_CONSENT_VERSION, withdrawn_at__isnull=True
    ).exists()


@dataclass
class Completeness:
    percent: int
    missing: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing


# What a graduate's profile needs before any programme can use it: (label, test).
_REQUIRED = [
    (_("Real name"), lambda p: bool(p.real_name)),
    (_("ID number"), lambda p: p.has_id_number),
    (_("Contact phone"), lambda p: bool(p.phone)),
    (_("Education level"), lambda p: bool(p.education_level)),
    (_("School"), lambda p: bool(p.school)),
    (_("Major"), lambda p: bool(p.major)),
    (_("Graduation date"), lambda p: p.graduation_date is not None),
    (_("Household registration city"), lambda p: bool(p.hukou_city)),
    (_("District"), lambda p: p.district_id is not None),
]


def profile_completeness(
    *, profile: ApplicantProfile, consent: bool | None = None, documents: set[str] | None = None
) -> Completeness:
    """How complete the profile is, and what is missing, in words the graduate reads."""
    missing = [str(label) for label, ok in _REQUIRED if not ok(profile)]
    if documents is None:
        documents = set(Document.objects.filter(owner_id=profile.user_id).values_list("kind", flat=True))
    if DocumentKind.DEGREE_CERTIFICATE not in documents:
        missing.append(str(_("Degree certificate (upload)")))
    if consent is None:
        consent = has_current_consent(user=profile.user)
    if not consent:
        missing.append(str(_("Consent to processing personal information")))
    total = len(_REQUIRED) + 2
    return Completeness(percent=round(100 * (total - len(missing)) / total), missing=missing)


def parameter_value(*, key: str, on: dt.date | None = None, district_id: int | None = None, default: Any = None) -> Any:
    """The value of policy parameter ``key`` in force on date ``on`` (today by default):
    the district's own row if it has one, else the city-wide row."""
    on = on or timezone.localdate()
    in_force = Parameter.objects.filter(key=key, effective_from__lte=on).order_by("-effective_from")
    row = in_force.filter(district_id=district_id).first() if district_id else None
    if row is None:
        row = in_force.filter(district__isnull=True).first()
    if row is None:
        if default is not None:
            return default
        raise LookupError(f"No value of parameter {key!r} is in force on {on}.")
    return row.value


def status_history(*, obj) -> list[AuditEntry]:
    """The status changes of a record, oldest first, ready to show with their labels."""
    ct = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    entries = list(
        AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk), action=AuditAction.TRANSITION).order_by(
            "created_at", "id"
        )
    )
    for entry in entries:
        entry.content_type = ct  # the labels read the model from it: no query per entry
    return entries
