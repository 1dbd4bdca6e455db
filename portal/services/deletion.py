"""Account deletion (PIPL art. 47) and the retention of closed applications (ADR 0009).

A graduate's request closes the account at once and withdraws their open applications; a
Celery task then anonymises the personal data everywhere and keeps the decisions the city
must keep (statuses, dates, amounts, ledger entries, leases, the audit trail), with the
person reduced to a pseudonym. Each programme app contributes its part through
``portal.privacy``; this module runs the parts and owns the core's own rows."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import privacy
from portal.constants import AuditAction, DeletionStatus, Role
from portal.models import (
    ApplicantProfile,
    AuditEntry,
    Consent,
    DeletionRequest,
    Document,
    Notification,
    NotificationPreference,
    User,
    pseudonym_for,
)

from .audit import audit_record

logger = logging.getLogger(__name__)

# Policy parameter (portal.Parameter) loaded by a data migration; city staff change it.
RETENTION_DAYS = "privacy-retention-days"
RETENTION_BATCH_SIZE = 500
# A night's run stops after this many batches per programme; the rest waits for the next night.
RETENTION_MAX_BATCHES = 200
# A request whose anonymisation task has not finished after this long is run by the nightly
# job (a broker that lost the message, a worker that died for good).
STALE_REQUEST_AFTER = dt.timedelta(minutes=30)


class DeletionRefused(ValidationError):
    """The account cannot be deleted yet; ``messages`` lists what to settle first."""


def withdrawal_reason() -> str:
    """The reason written on applications withdrawn by a deletion request, in the portal's
    default language (it is stored and read later by staff)."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("The graduate deleted their account.")


def deletion_obligations(*, user: User) -> list[str]:
    """What stands between ``user`` and the deletion of their account, one line per record:
    empty when the account can be deleted now."""
    if user.role != Role.GRADUATE or user.is_staff:
        return [
            _(
                "Only graduates delete their own account here. Employer and staff accounts are closed by "
                "the service desk, since an organisation or a district depends on them."
            )
        ]
    return privacy.deletion_obligations(user=user)


def deletion_request(*, user: User) -> DeletionRequest:
    """The graduate asks to delete their account. Refused with the list of open obligations
    when there are any; otherwise their open applications are withdrawn (employers and
    staff are told as for any withdrawal), the account is closed at once (no sign-in, no
    API token) and the anonymisation is queued after commit. Asking twice returns the
    first request."""
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        existing = DeletionRequest.objects.filter(user=user).first()
        if existing is not None:
            return existing
        obligations = deletion_obligations(user=user)
        if obligations:
            raise DeletionRefused(obligations, code="obligations")
        withdrawn: list[str] = []
        for _section, withdraw in privacy.deletion_withdrawals():
            withdrawn += withdraw(user)
        profile = ApplicantProfile.objects.filter(user=user).only("district_id").first()
        request = DeletionRequest.objects.create(
            user=user,
            pseudonym=pseudonym_for(user.pk),
            district_id=profile.district_id if profile else None,
            withdrawn=withdrawn,
        )
        _close_account(user)
        audit_record(
            actor=user,
            action=AuditAction.DELETION,
            target=request,
            to_status=DeletionStatus.REQUESTED,
            detail={"withdrawn": withdrawn},
        )
        transaction.on_commit(lambda: _queue_execution(request.pk))
    return request


def _queue_execution(request_id: int) -> None:
    from portal.tasks import account_deletion_execute

    account_deletion_execute.delay(request_id)


def _close_account(user: User) -> None:
    """No more sign-in by password, code, token or an open session on another device (the
    session hash follows the password, and inactive users are not authenticated)."""
    from rest_framework.authtoken.models import Token

    User.objects.filter(pk=user.pk).update(is_active=False, password=make_password(None))
    Token.objects.filter(user=user).delete()


def deletion_execute(*, request_id: int) -> DeletionRequest:
    """Anonymise the account of a deletion request: every programme's part, then the core's.
    Idempotent: a completed request is left as it is, and a run that died half-way is
    simply run again (each part clears what is still there)."""
    with transaction.atomic():
        request = DeletionRequest.objects.select_for_update().select_related("user").get(pk=request_id)
        if request.status == DeletionStatus.COMPLETED:
            return request
        user = request.user
        summary: dict[str, Any] = {}
        for section, anonymise in privacy.deletion_anonymisers():
            summary[section] = anonymise(user)
        summary["portal"] = _anonymise_core(user, pseudonym=request.pseudonym)
        request.status = DeletionStatus.COMPLETED
        request.completed_at = timezone.now()
        request.summary = summary
        request.save(update_fields=["status", "completed_at", "summary"])
        audit_record(
            actor=None,
            action=AuditAction.DELETION,
            target=request,
            from_status=DeletionStatus.REQUESTED,
            to_status=DeletionStatus.COMPLETED,
            detail={"summary": summary},
        )
    logger.info("Account deletion request %s completed", request.pk)
    return request


def _first_of_year(day: dt.date | None) -> dt.date | None:
    return day.replace(month=1, day=1) if day else None


def _anonymise_core(user: User, *, pseudonym: str) -> dict[str, int]:
    """The core's part: profile, documents (files too), notifications, consents, sign-in
    records (e-mail and phone, authenticators, tokens, sessions) and the account itself."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.models import Authenticator
    from django.contrib.admin.models import LogEntry
    from rest_framework.authtoken.models import Token

    counts: dict[str, int] = {}
    profile = ApplicantProfile.objects.filter(user=user).first()
    if profile is not None:
        # Birth and graduation year stay for the statistics (age groups, graduates per
        # year); the ID number, its hash (which frees the number) and every free text go.
        counts["profile"] = ApplicantProfile.objects.filter(pk=profile.pk).update(
            real_name=pseudonym,
            id_number_encrypted="",
            id_number_hash=None,
            id_number_masked="",
            birth_date=_first_of_year(profile.birth_date),
            graduation_date=_first_of_year(profile.graduation_date),
            phone="",
            school="",
            major="",
            hukou_city="",
            current_employer="",
            updated_at=timezone.now(),
        )
    documents = list(Document.objects.filter(owner=user))
    files = [(d.file.storage, d.file.name) for d in documents if d.file.name]
    counts["documents"] = len(documents)
    Document.objects.filter(pk__in=[d.pk for d in documents]).delete()
    transaction.on_commit(lambda: _delete_files(files))
    counts["notifications"] = Notification.objects.filter(user=user).count()
    Notification.objects.filter(user=user).delete()
    NotificationPreference.objects.filter(user=user).delete()
    # Consents stay as the record of lawful processing until now; they end today.
    Consent.objects.filter(user=user, withdrawn_at__isnull=True).update(withdrawn_at=timezone.now())
    counts["sign_in_records"] = (
        EmailAddress.objects.filter(user=user).delete()[0]
        + Authenticator.objects.filter(user=user).delete()[0]
        + Token.objects.filter(user=user).delete()[0]
    )
    counts["sessions"] = _delete_sessions(user)
    # The admin's change history names the account and the profile by their text at the time.
    targets = [(User, user.pk)] + ([(ApplicantProfile, profile.pk)] if profile is not None else [])
    for model, pk in targets:
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id=str(pk)).update(
            object_repr=pseudonym
        )
    User.objects.filter(pk=user.pk).update(
        username=f"deleted-{user.pk}",
        email=None,
        phone=None,
        phone_verified=False,
        first_name="",
        last_name="",
        password=make_password(None),
        is_active=False,
        is_staff=False,
        is_superuser=False,
    )
    user.districts.clear()
    user.groups.clear()
    user.user_permissions.clear()
    return counts


def _delete_files(files: list[tuple[Any, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except OSError:
            # The row is gone; an orphan file is found by the storage's own clean-up. The
            # name is a random token (documents.document_path), safe to log.
            logger.warning("Could not delete stored document %s", name)


def _delete_sessions(user: User) -> int:
    """Sessions of the account on every device. Sessions are signed blobs, so each live one
    is decoded; this runs in the Celery task, not in a request."""
    from django.contrib.sessions.models import Session

    doomed = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000):
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            doomed.append(session.pk)
    return Session.objects.filter(pk__in=doomed).delete()[0]


# --- retention ---------------------------------------------------------------------------------


def retention_cutoff(*, now: dt.datetime | None = None) -> dt.datetime:
    """Records closed before this moment have been kept long enough."""
    from portal.selectors import parameter_value

    now = now or timezone.now()
    days = int(parameter_value(key=RETENTION_DAYS, on=timezone.localdate(now)))
    return now - dt.timedelta(days=days)


def retention_run(*, now: dt.datetime | None = None, batch_size: int = RETENTION_BATCH_SIZE) -> dict[str, int]:
    """Anonymise every closed application that closed longer ago than the retention period
    (policy parameter ``privacy-retention-days``): free texts, answers, attachments and the
    personal snapshot go; status, decision, dates and amounts stay. Each batch is its own
    transaction and writes one audit entry per record; a second run finds nothing to do.
    Also finishes deletion requests whose task was lost."""
    now = now or timezone.now()
    cutoff = retention_cutoff(now=now)
    counts: dict[str, int] = {}
    for section, retain in privacy.retention_parts():
        total = 0
        for _batch in range(RETENTION_MAX_BATCHES):
            with transaction.atomic():
                done = retain(cutoff=cutoff, batch_size=batch_size)
                _audit_retention(done, cutoff=cutoff)
            total += len(done)
            if not done:
                break
        counts[section] = total
    stale = DeletionRequest.objects.filter(
        status=DeletionStatus.REQUESTED, requested_at__lt=now - STALE_REQUEST_AFTER
    ).values_list("pk", flat=True)
    counts["deletion_requests"] = 0
    for request_id in list(stale):
        deletion_execute(request_id=request_id)
        counts["deletion_requests"] += 1
    logger.info("Retention run (cutoff %s): %s", cutoff.date().isoformat(), counts)
    return counts


def _audit_retention(done: list[tuple[type, int]], *, cutoff: dt.datetime) -> None:
    if not done:
        return
    types = {model: ContentType.objects.get_for_model(model) for model in {model for model, _pk in done}}
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                action=AuditAction.RETENTION,
                content_type=types[model],
                object_id=str(pk),
                detail={"closed_before": cutoff.date().isoformat()},
            )
            for model, pk in done
        ]
    )
