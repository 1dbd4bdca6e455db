"""What the subsidies app holds about a person: their data export, their part of an account
deletion and the retention of closed applications (ADR 0009). Amounts, statuses, dates and
the payout ledger are decisions on public money and are kept."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _

from portal.privacy import (
    ANONYMISED,
    register_anonymiser,
    register_exporter,
    register_obligations,
    register_retention,
    register_withdrawal,
    rows,
    scrub_eligibility,
)
from subsidies.constants import SubsidyStatus
from subsidies.models import EligibilityCheck, Objection, ScreeningNotice, SubsidyApplication

S = SubsidyStatus
# The applicant may still withdraw these themselves.
WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE, S.UNDER_REVIEW)
# Money promised and not yet paid.
COMMITTED_UNPAID = (S.APPROVED, S.NOTICE, S.PAYABLE)
CLOSED = (S.REJECTED, S.WITHDRAWN, S.PAID, S.REFERRED)
# The details that decided the amount; names of businesses, universities and the like go.
AMOUNT_DETAILS = ("months", "monthly_rent", "loan_amount", "product")


@register_exporter("subsidies")
def export_subsidies(user) -> dict:
    return {
        "applications": rows(
            SubsidyApplication.objects.filter(Q(applicant=user) | Q(beneficiary=user)),
            [
                "id",
                "programme__code",
                "period_start",
                "period_end",
                "details",
                "amount",
                "status",
                "status_reason",
                "notice_ends_on",
                "created_at",
            ],
        ),
        "objections_filed": rows(
            Objection.objects.filter(filed_by=user), ["application_id", "text", "status", "created_at"]
        ),
    }


@register_obligations("subsidies")
def subsidy_obligations(user) -> list[str]:
    """Approved money not yet paid, and an employer's claim about the person still being
    decided: both need the person's data until they are settled."""
    messages = []
    own = SubsidyApplication.objects.filter(applicant=user, status__in=COMMITTED_UNPAID).select_related("programme")
    for app in own:
        messages.append(
            _("Subsidy %(reference)s (%(programme)s) is approved and not yet paid: wait until it is paid.")
            % {"reference": app.reference, "programme": app.programme.name}
        )
    claims = (
        SubsidyApplication.objects.filter(beneficiary=user)
        .exclude(applicant=user)
        .exclude(status__in=CLOSED)
        .select_related("programme")
    )
    for app in claims:
        messages.append(
            _("An employer's claim %(reference)s (%(programme)s) about your employment is being decided.")
            % {"reference": app.reference, "programme": app.programme.name}
        )
    return messages


@register_withdrawal("subsidies")
def withdraw_subsidies(user) -> list[str]:
    from portal.services.deletion import withdrawal_reason
    from subsidies import services

    withdrawn = []
    for app in SubsidyApplication.objects.filter(applicant=user, status__in=WITHDRAWABLE):
        services.subsidy_application_withdraw(application=app, actor=user, reason=withdrawal_reason())
        withdrawn.append(f"subsidies.subsidyapplication #{app.pk}")
    return withdrawn


def _clear(ids: list[int]) -> int:
    """Details beyond the amount's inputs, the attached papers and the person's facts in the
    checks go; programme, period, amount, status, reviewers and ledger stay."""
    apps = list(SubsidyApplication.objects.filter(pk__in=ids).only("pk", "details", "eligibility"))
    for app in apps:
        app.details = {k: v for k, v in (app.details or {}).items() if k in AMOUNT_DETAILS}
        app.eligibility = scrub_eligibility(app.eligibility)
    SubsidyApplication.objects.bulk_update(apps, ["details", "eligibility"])
    SubsidyApplication.documents.through.objects.filter(subsidyapplication_id__in=ids).delete()
    checks = list(EligibilityCheck.objects.filter(application_id__in=ids).only("pk", "result"))
    for check in checks:
        check.result = scrub_eligibility(check.result)
    EligibilityCheck.objects.bulk_update(checks, ["result"], batch_size=500)
    Objection.objects.filter(application_id__in=ids).exclude(text="").update(text="")
    return len(apps)


@register_anonymiser("subsidies")
def anonymise_subsidies(user) -> dict[str, int]:
    ids = list(SubsidyApplication.objects.filter(Q(applicant=user) | Q(beneficiary=user)).values_list("pk", flat=True))
    return {
        "applications": _clear(ids),
        # Objections the person filed against others' applications: the text names them.
        "objections": Objection.objects.filter(filed_by=user).exclude(text="").update(text=""),
        "screening_notices": ScreeningNotice.objects.filter(user=user).delete()[0],
    }


@register_retention("subsidies")
def retain_subsidies(*, cutoff, batch_size: int) -> list[tuple[type, int]]:
    attached = SubsidyApplication.documents.through.objects.filter(subsidyapplication_id=OuterRef("pk"))
    due = SubsidyApplication.objects.filter(status__in=CLOSED, updated_at__lt=cutoff).filter(
        ~Q(eligibility__has_key=ANONYMISED) | Exists(attached)
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch_size])
    _clear(ids)
    return [(SubsidyApplication, pk) for pk in ids]
