"""A graduate's rights over their personal data, and the portal's retention of it. Each
programme app registers its part here, so the core never imports the apps:

- the copy (PIPL art. 45): ``register_exporter``, read by ``personal_data_export``;
- account deletion (PIPL art. 47, ADR 0009): ``register_obligations`` (what must be settled
  first), ``register_withdrawal`` (open applications withdrawn on request) and
  ``register_anonymiser`` (personal data removed, decisions kept), run by
  ``portal.services.deletion``;
- retention: ``register_retention`` (closed applications anonymised after the period in
  the policy parameter ``privacy-retention-days``), run by the nightly beat task."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from portal.models import Consent, Document, Notification, User

_EXPORTERS: dict[str, Callable[[User], Any]] = {}
_OBLIGATIONS: dict[str, Callable[[User], list[str]]] = {}
_WITHDRAWALS: dict[str, Callable[[User], list[str]]] = {}
_ANONYMISERS: dict[str, Callable[[User], dict[str, int]]] = {}
_RETENTION: dict[str, Callable[..., list[tuple[type, int]]]] = {}


def register_exporter(section: str):
    """``exporter(user) -> JSON-serialisable data`` for the section ``section`` of the export."""

    def wrap(function):
        _EXPORTERS[section] = function
        return function

    return wrap


def _registrar(registry: dict[str, Callable], section: str):
    def wrap(function):
        registry[section] = function
        return function

    return wrap


def register_obligations(section: str):
    """``obligations(user) -> [message]``: what the person must settle before their account
    can be deleted (a lease, a stay, money being paid), one translated line per record."""
    return _registrar(_OBLIGATIONS, section)


def register_withdrawal(section: str):
    """``withdraw(user) -> [reference]``: withdraw the person's open applications when they
    ask to delete their account (through the app's own services, so staff and employers
    are told as for any withdrawal); returns "app_label.model #pk" of each one."""
    return _registrar(_WITHDRAWALS, section)


def register_anonymiser(section: str):
    """``anonymise(user) -> {what: rows}``: remove the person's personal data from the app's
    rows and keep the decisions (status, dates, amounts). Runs before the core's part (the
    account still has its e-mail and phone); must be idempotent."""
    return _registrar(_ANONYMISERS, section)


def register_retention(section: str):
    """``retain(*, cutoff, batch_size) -> [(model, pk)]``: anonymise at most ``batch_size``
    closed records of each kind that closed before ``cutoff`` and still hold personal data,
    and name them; the caller repeats until a call names none. A record once anonymised
    must no longer be selected (that is what makes the job idempotent)."""
    return _registrar(_RETENTION, section)


def deletion_obligations(*, user: User) -> list[str]:
    """Every open obligation of every programme, in section order."""
    return [message for _section, check in sorted(_OBLIGATIONS.items()) for message in check(user)]


def deletion_withdrawals() -> list[tuple[str, Callable[[User], list[str]]]]:
    return sorted(_WITHDRAWALS.items())


def deletion_anonymisers() -> list[tuple[str, Callable[[User], dict[str, int]]]]:
    return sorted(_ANONYMISERS.items())


def retention_parts() -> list[tuple[str, Callable[..., list[tuple[type, int]]]]]:
    return sorted(_RETENTION.items())


# The marker an anonymised eligibility snapshot carries, so retention finds the rest.
ANONYMISED = "anonymised"


def scrub_eligibility(result: dict | None) -> dict:
    """An eligibility snapshot without the person's facts: whether they were eligible, which
    criteria passed and the policy values used stay (they explain the decision); the
    messages, which name the person's own dates, places and degrees, go."""
    result = result or {}
    return {
        "eligible": result.get("eligible"),
        "criteria": [
            {k: c.get(k) for k in ("code", "passed", "blocking") if k in c}
            for c in result.get("criteria") or []
            if isinstance(c, dict)
        ],
        "parameters": result.get("parameters") or {},
        ANONYMISED: True,
    }


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
