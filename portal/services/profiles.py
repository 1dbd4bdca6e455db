from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import crypto
from portal.constants import AuditAction
from portal.models import ApplicantProfile, Consent, User
from portal.permissions import may_unmask_id_number
from portal.validators import id_birth_date, id_gender, mask_id_number, validate_id_number

from .audit import audit_record

PROFILE_FIELDS = (
    "real_name",
    "phone",
    "education_level",
    "school",
    "major",
    "graduation_date",
    "hukou_province",
    "hukou_city",
    "district",
    "current_employer",
    "works_in_luoyang",
)


def profile_get_or_create(*, user: User) -> ApplicantProfile:
    profile, created = ApplicantProfile.objects.get_or_create(
        user=user, defaults={"phone": (user.phone or "").removeprefix("+86")}
    )
    return profile


def _apply_id_number(profile: ApplicantProfile, raw: str) -> None:
    number = validate_id_number(raw)
    digest = crypto.keyed_hash(number)
    if ApplicantProfile.objects.filter(id_number_hash=digest).exclude(pk=profile.pk).exists():
        raise ValidationError(
            {
                "id_number": _(
                    "This ID number is already registered to another account. If it is yours, contact the service desk."
                )
            }
        )
    profile.id_number_encrypted = crypto.encrypt(number)
    profile.id_number_hash = digest
    profile.id_number_masked = mask_id_number(number)
    profile.birth_date = id_birth_date(number)
    profile.gender = id_gender(number)


def profile_update(*, user: User, data: dict[str, Any], id_number: str | None = None) -> ApplicantProfile:
    """Save the graduate's profile. The ID number, when given, is validated, checked for
    uniqueness through its keyed hash, stored encrypted, and birth date and gender are
    derived from it."""
    with transaction.atomic():
        profile = profile_get_or_create(user=user)
        profile = ApplicantProfile.objects.select_for_update().get(pk=profile.pk)
        for name in PROFILE_FIELDS:
            if name in data:
                setattr(profile, name, data[name])
        if id_number:
            try:
                _apply_id_number(profile, id_number)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    raise
                raise ValidationError({"id_number": exc.messages}) from exc
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError as exc:  # two accounts racing for the same ID number
            raise ValidationError(
                {
                    "id_number": _(
                        "This ID number is already registered to another account. If it is yours, contact the service desk."
                    )
                }
            ) from exc
    return profile


def profile_unmask_id_number(*, profile: ApplicantProfile, actor: User, reason: str = "") -> str:
    """Show the full ID number: to its owner, or to staff of the profile's district, who
    leave an audit entry."""
    if actor.pk != profile.user_id:
        if not may_unmask_id_number(actor, profile):
            raise PermissionDenied(_("You may not see this person's full ID number."))
        audit_record(
            actor=actor, action=AuditAction.PII_UNMASK, target=profile, reason=reason, detail={"field": "id_number"}
        )
    return profile.reveal_id_number()


def consent_give(*, user: User, version: str | None = None) -> Consent:
    """Record the separate consent to processing sensitive personal information."""
    version = version or settings.PORTAL_CONSENT_VERSION
    existing = Consent.objects.filter(user=user, version=version, withdrawn_at__isnull=True).first()
    if existing:
        return existing
    return Consent.objects.create(user=user, version=version)


def consent_withdraw(*, user: User) -> int:
    return Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())


def profile_add_volunteer_hours(*, user: User, hours) -> ApplicantProfile:
    """Credit volunteer hours (志愿服务时长) for an attended event."""
    from django.db.models import F

    profile = profile_get_or_create(user=user)
    ApplicantProfile.objects.filter(pk=profile.pk).update(volunteer_hours=F("volunteer_hours") + hours)
    profile.refresh_from_db(fields=["volunteer_hours"])
    return profile


def profile_record_employment(*, user: User, employer: str, in_luoyang: bool) -> ApplicantProfile:
    """Record that the graduate now works for ``employer`` (a hire in the jobs programme);
    programmes that ask "working in Luoyang" read this fact."""
    with transaction.atomic():
        profile = profile_get_or_create(user=user)
        profile = ApplicantProfile.objects.select_for_update().get(pk=profile.pk)
        profile.current_employer = employer[:100]
        profile.works_in_luoyang = in_luoyang
        profile.save(update_fields=["current_employer", "works_in_luoyang", "updated_at"])
    return profile
