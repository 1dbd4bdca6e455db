"""A graduate's copy of their personal data (PIPL art. 45): the core exports the account,
profile, consents, documents and notifications; each programme app registers what it holds
about the person, without the core importing the apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from portal.models import Consent, Document, Notification, User

_EXPORTERS: dict[str, Callable[[User], Any]] = {}


def register_exporter(section: str):
    """``exporter(user) -> JSON-serialisable data`` for the section ``section`` of the export."""

    def wrap(function):
        _EXPORTERS[section] = function
        return function

    return wrap


def _value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str | list | dict):
        return value
    return str(value)


def rows(queryset, fields: list[str]) -> list[dict[str, Any]]:
    """The given fields of each row, as JSON values (dates as ISO text, decimals as text)."""
    return [{f: _value(v) for f, v in row.items()} for row in queryset.values(*fields)]


def personal_data_export(*, user: User) -> dict[str, Any]:
    """Everything the portal holds about ``user``, in one JSON document."""
    profile = getattr(user, "profile", None)
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "account": {
            "username": user.username,
            "email": user.email,
            "phone": getattr(user, "phone", "") or "",
            "role": user.role,
            "language": user.language,
            "date_joined": user.date_joined.isoformat(),
        },
        "profile": None,
        "consents": rows(Consent.objects.filter(user=user), ["version", "granted_at", "withdrawn_at"]),
        "documents": rows(
            Document.objects.filter(owner=user), ["id", "kind", "original_name", "content_type", "size", "created_at"]
        ),
        "notifications": rows(
            Notification.objects.filter(user=user), ["kind", "title", "body", "created_at", "read_at"]
        ),
    }
    if profile is not None:
        data["profile"] = {
            "real_name": profile.real_name,
            # The owner's own number, decrypted for their copy.
            "id_number": profile.reveal_id_number(),
            "birth_date": _value(profile.birth_date),
            "gender": profile.gender,
            "phone": profile.phone,
            "education_level": profile.education_level,
            "school": profile.school,
            "major": profile.major,
            "graduation_date": _value(profile.graduation_date),
            "hukou_province": profile.hukou_province,
            "hukou_city": profile.hukou_city,
            "district": profile.district.name if profile.district_id else "",
            "current_employer": profile.current_employer,
            "works_in_luoyang": profile.works_in_luoyang,
            "volunteer_hours": str(profile.volunteer_hours),
        }
    for section, exporter in sorted(_EXPORTERS.items()):
        data[section] = exporter(user)
    return data
