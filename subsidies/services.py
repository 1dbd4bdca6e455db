"""Every write of the subsidy programmes: applications and employers' claims, the Celery
eligibility check with its stored result, re-checks when facts or parameters change, the
proactive screening (免申即享), staff review with a budget that cannot be overspent, second
approval of large amounts, the public notice (公示) with objections, and payment."""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from functools import partial

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import services as portal_services
from portal import workflow
from portal.constants import AuditAction, OrganisationStatus, Role
from portal.models import AuditEntry, Document, Organisation, User
from portal.permissions import can_review_district, is_member, register_document_reader
from portal.rules import months_later
from portal.selectors import district_staff, parameter_value
from subsidies import constants as c
from subsidies import rules, selectors
from subsidies.constants import (
    OPEN_SUBSIDY_STATES,
    ApplicantKind,
    ObjectionStatus,
    PeriodKind,
    RuleCode,
    SubsidyStatus,
)
from subsidies.models import EligibilityCheck, LedgerEntry, Objection, Programme, ScreeningNotice, SubsidyApplication

logger = logging.getLogger(__name__)
S = SubsidyStatus
CHECK_BATCH = 100


def _link() -> str:
    return reverse("subsidies:mine")


# --- eligibility --------------------------------------------------------------------------------


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _period(programme: Programme, period_start: dt.date | None, details: dict, today: dt.date):
    """The period an application covers and the key the database keeps unique per programme."""
    start = period_start or today
    if programme.period_kind == PeriodKind.MONTHLY:
        start = _month_start(start)
        months = 1
        if programme.rule_code in (RuleCode.RENT_SUBSIDY, RuleCode.INCUBATION_RENT):
            months = max(1, min(12, int(details.get("months") or 1)))
        end = _month_end(months_later(start, months - 1))
        return start, end, start.strftime("%Y-%m")
    if programme.period_kind == PeriodKind.YEARLY:
        start = start.replace(month=1, day=1)
        return start, start.replace(month=12, day=31), str(start.year)
    return start, start, ""


def _dedupe_key(programme: Programme, person: User, organisation, job_application_id, period_key, details) -> str:
    if programme.rule_code == RuleCode.INCUBATION_RENT:
        return f"business:{(details.get('credit_code') or '').strip()}:{period_key}"
    if programme.rule_code == RuleCode.UNIVERSITY_BASE:
        return f"org:{organisation.pk}:{period_key}"
    if programme.period_kind == PeriodKind.PER_HIRE:
        return f"hire:{job_application_id}"
    return f"person:{person.pk}:{period_key}"


def _parameter_day(programme: Programme, period_start: dt.date, today: dt.date) -> dt.date:
    """The day whose parameter values a check uses. A monthly claim uses the values in force
    in the month claimed (its last day: a value that took effect during the month, such as
    the action plan's on 2 December 2021, counts for that month); other programmes use the
    values in force on the day of the check."""
    return _month_end(period_start) if programme.period_kind == PeriodKind.MONTHLY else today


def _params(programme: Programme, facts: rules.SubsidyFacts, on: dt.date, district_id: int | None, rows=None):
    keys = selectors.rule_parameter_keys(programme=programme, facts=facts)
    return selectors.parameters_in_force(keys=keys, on=on, district_id=district_id, rows=rows)


def subsidy_eligibility(
    *,
    programme: Programme,
    applicant: User,
    organisation: Organisation | None = None,
    beneficiary: User | None = None,
    job_application_id: int | None = None,
    details: dict | None = None,
    period_start: dt.date | None = None,
    today: dt.date | None = None,
    exclude_application_id: int | None = None,
) -> rules.Outcome:
    """The programme's rule for this person and period, with the values in force: the live
    preview on the programme page and the check after submission run the same code."""
    today = today or timezone.localdate()
    details = details or {}
    start, end, _key = _period(programme, period_start, details, today)
    facts = selectors.subsidy_facts(
        programme=programme,
        applicant=applicant,
        beneficiary=beneficiary,
        organisation=organisation,
        job_application_id=job_application_id,
        details=details,
        period_start=start,
        period_end=end,
        exclude_application_id=exclude_application_id,
    )
    district_id = _district_id(applicant, organisation)
    # Amounts follow the period claimed (a month's minimum wage); limits follow today.
    params = _params(programme, facts, _parameter_day(programme, start, today), district_id)
    return rules.evaluate(programme.rule_code, facts, params, start, today)


def _district_id(applicant: User, organisation: Organisation | None) -> int | None:
    if organisation is not None:
        return organisation.district_id
    profile = getattr(applicant, "profile", None)
    return profile.district_id if profile else None


# --- applications -------------------------------------------------------------------------------


def _clean_details(programme: Programme, details: dict) -> dict:
    clean: dict = {}
    errors: dict[str, str] = {}
    code = programme.rule_code
    if code in (RuleCode.RENT_SUBSIDY, RuleCode.INCUBATION_RENT):
        try:
            clean["months"] = int(details.get("months") or 0)
        except (TypeError, ValueError):
            errors["months"] = _("Give the number of months as a whole number.")
    if code == RuleCode.INCUBATION_RENT:
        clean["business_name"] = str(details.get("business_name") or "").strip()[:100]
        clean["credit_code"] = str(details.get("credit_code") or "").strip().upper()[:18]
        clean["incubator"] = str(details.get("incubator") or "").strip()[:100]
        try:
            rent = Decimal(str(details.get("monthly_rent") or "0"))
            if rent < 0 or rent > Decimal("1000000"):
                raise InvalidOperation
            clean["monthly_rent"] = str(rent.quantize(Decimal("0.01")))
        except (InvalidOperation, ValueError):
            errors["monthly_rent"] = _("Give the monthly rent in CNY, e.g. 1500.")
    if code == RuleCode.UNIVERSITY_BASE:
        clean["university"] = str(details.get("university") or "").strip()[:100]
        clean["base_name"] = str(details.get("base_name") or "").strip()[:100]
        clean["scale"] = str(details.get("scale") or "").strip()[:1000]
    if code == RuleCode.STARTUP_LOAN:
        clean["product"] = str(details.get("product") or "")
        clean["business_name"] = str(details.get("business_name") or "").strip()[:100]
        try:
            clean["loan_amount"] = str(Decimal(str(details.get("loan_amount") or "0")).quantize(Decimal("1")))
        except (InvalidOperation, ValueError):
            errors["loan_amount"] = _("Give the loan amount in CNY, e.g. 200000.")
    if errors:
        raise ValidationError(errors)
    return clean


def subsidy_application_create(
    *,
    programme: Programme,
    applicant: User,
    organisation: Organisation | None = None,
    job_application_id: int | None = None,
    period_start: dt.date | None = None,
    details: dict | None = None,
    documents: Iterable[Document] = (),
    submit: bool = True,
) -> SubsidyApplication:
    """Apply (graduates) or claim (employers) under a programme. The amount is computed by
    the rule and shown before submitting; the check after submission runs in Celery. A
    second application for the same person and period is refused by the database."""
    today = timezone.localdate()
    if not programme.is_open_on(today):
        raise ValidationError(_("This programme is not taking applications now."), code="closed")
    details = _clean_details(programme, details or {})
    beneficiary = applicant
    if programme.applicant_kind == ApplicantKind.GRADUATE:
        if applicant.role != Role.GRADUATE:
            raise PermissionDenied(_("Only graduates apply for this programme."))
        organisation = None
    else:
        if organisation is None or not is_member(applicant, organisation):
            raise PermissionDenied(_("Only members of the employer can claim for it."))
        if organisation.status != OrganisationStatus.VERIFIED:
            raise ValidationError(_("The employer must be verified first."), code="not_verified")
        if programme.period_kind in (PeriodKind.MONTHLY, PeriodKind.PER_HIRE):
            beneficiary = _hired_graduate(organisation, job_application_id)
    documents = list(documents)
    if any(d.owner_id != applicant.pk for d in documents):
        raise ValidationError(_("Choose only your own uploaded documents."), code="documents")
    missing = [k for k in programme.required_documents if k not in {d.kind for d in documents}]
    if missing:
        from portal.constants import DocumentKind

        raise ValidationError(
            _("Attach the required documents: %(kinds)s")
            % {"kinds": "、".join(str(DocumentKind(k).label) for k in missing if k in DocumentKind.values)},
            code="documents",
        )
    start, end, period_key = _period(programme, period_start, details, today)
    key = _dedupe_key(programme, beneficiary, organisation, job_application_id, period_key, details)
    outcome = subsidy_eligibility(
        programme=programme,
        applicant=applicant,
        organisation=organisation,
        beneficiary=beneficiary,
        job_application_id=job_application_id,
        details=details,
        period_start=start,
        today=today,
    )
    district_id = _district_id(applicant, organisation)
    if district_id is None:
        raise ValidationError(_("Choose your district in your profile first."), code="district")
    try:
        with transaction.atomic():
            application = SubsidyApplication.objects.create(
                programme=programme,
                applicant=applicant,
                organisation=organisation,
                beneficiary=beneficiary,
                job_application_id=job_application_id,
                district_id=district_id,
                period_start=start,
                period_end=end,
                details=details,
                dedupe_key=key[:80],
                amount=outcome.amount,
                eligibility=outcome.result.as_dict(),
            )
            application.documents.set(documents)
            if submit:
                subsidy_application_submit(application=application, actor=applicant)
    except IntegrityError as exc:
        raise ValidationError(
            _("An application of this programme for the same person and period already exists."), code="duplicate"
        ) from exc
    return application


def _hired_graduate(organisation: Organisation, job_application_id: int | None) -> User:
    from jobs.constants import ApplicationStatus
    from jobs.models import JobApplication

    hire = (
        JobApplication.objects.filter(
            pk=job_application_id, position__organisation=organisation, status=ApplicationStatus.HIRED
        )
        .select_related("applicant")
        .first()
    )
    if hire is None:
        raise ValidationError(_("Choose a graduate your organisation has hired in the jobs programme."), code="hire")
    return hire.applicant


def _request_check(application: SubsidyApplication, reason: str) -> None:
    """Count up the check requests and queue the check after commit."""
    from subsidies.tasks import subsidy_check

    SubsidyApplication.objects.filter(pk=application.pk).update(check_sequence=application.check_sequence + 1)
    application.check_sequence += 1
    pk, sequence = application.pk, application.check_sequence
    transaction.on_commit(lambda: subsidy_check.delay(pk, sequence, reason))


def _apply_submit(app: SubsidyApplication, actor, reason):
    app.submitted_at = timezone.now()
    _request_check(app, "submitted")
    return ["submitted_at"]


# --- workflow -----------------------------------------------------------------------------------


@register_document_reader
def _subsidy_staff_read_application_papers(user: User, document) -> bool:
    """Staff of the application's district open the papers attached to a subsidy
    application (an employer member's licence has no profile district)."""
    if not user.is_portal_staff:
        return False
    districts = SubsidyApplication.objects.filter(documents=document).values_list("district_id", flat=True)
    return any(can_review_district(user, district_id) for district_id in districts)


def _owner(actor: User, app: SubsidyApplication) -> bool:
    return actor.pk == app.applicant_id or (app.organisation_id is not None and is_member(actor, app.organisation))


def _staff(actor: User, app: SubsidyApplication) -> bool:
    return actor.is_portal_staff and can_review_district(actor, app.district_id)


def _system(actor, app) -> bool:
    return False


def _apply_reason(app, actor, reason):
    app.status_reason = reason
    return ["status_reason"]


def _release_budget(app, actor, reason):
    LedgerEntry.objects.filter(application=app, paid_at__isnull=True).update(released=True)
    app.status_reason = reason
    return ["status_reason"]


def _notify(kind: str):
    def produce(app: SubsidyApplication, entry: AuditEntry):
        yield (
            app.applicant,
            kind,
            {
                "programme": app.programme.name,
                "reference": app.reference,
                "amount": f"{app.amount}",
                "reason": entry.reason or "-",
                "notice_ends_on": app.notice_ends_on.isoformat() if app.notice_ends_on else "-",
                "link": _link(),
            },
        )

    return produce


T = workflow.Transition
workflow.register(
    workflow.Workflow(
        model_label="subsidies.SubsidyApplication",
        transitions=[
            T(S.DRAFT, S.SUBMITTED, allowed=_owner, apply=_apply_submit),
            T(S.DRAFT, S.WITHDRAWN, allowed=_owner, apply=_apply_reason),
            T(S.SUBMITTED, S.ELIGIBLE, allowed=_system),
            T(S.SUBMITTED, S.INELIGIBLE, allowed=_system),
            T(S.ELIGIBLE, S.INELIGIBLE, allowed=_system),
            T(S.INELIGIBLE, S.ELIGIBLE, allowed=_system),
            T(S.ELIGIBLE, S.UNDER_REVIEW, allowed=_staff),
            T(S.ELIGIBLE, S.APPROVED, allowed=_staff),
            T(S.UNDER_REVIEW, S.APPROVED, allowed=_staff),
            T(S.ELIGIBLE, S.REFERRED, allowed=_staff, notify=_notify("subsidy_referred")),
            T(S.UNDER_REVIEW, S.REFERRED, allowed=_staff, notify=_notify("subsidy_referred")),
            *(
                T(
                    source,
                    S.REJECTED,
                    allowed=_staff,
                    requires_reason=True,
                    apply=_release_budget,
                    notify=_notify("subsidy_rejected"),
                )
                for source in (S.ELIGIBLE, S.INELIGIBLE, S.UNDER_REVIEW, S.APPROVED, S.NOTICE)
            ),
            T(S.APPROVED, S.NOTICE, allowed=_staff, notify=_notify("subsidy_notice")),
            T(S.NOTICE, S.PAYABLE, allowed=_system),
            T(S.PAYABLE, S.PAID, allowed=_staff, notify=_notify("subsidy_paid")),
            *(
                T(source, S.WITHDRAWN, allowed=_owner, apply=_release_budget)
                for source in (S.SUBMITTED, S.ELIGIBLE, S.INELIGIBLE, S.UNDER_REVIEW)
            ),
        ],
    )
)


def subsidy_application_submit(*, application: SubsidyApplication, actor: User) -> AuditEntry:
    return portal_services.transition(obj=application, to=S.SUBMITTED, actor=actor)


def subsidy_application_withdraw(*, application: SubsidyApplication, actor: User, reason: str = "") -> AuditEntry:
    return portal_services.transition(obj=application, to=S.WITHDRAWN, actor=actor, reason=reason)


# --- the check ----------------------------------------------------------------------------------


def _subsidy_parameter_rows() -> list:
    """Every row of the parameters the subsidy rules read, for a batch to share."""
    from portal.models import Parameter

    return list(Parameter.objects.filter(Q(key__startswith="subsidy-") | Q(key__startswith="min-wage-")))


def _evaluate_stored(app: SubsidyApplication, facts: rules.SubsidyFacts, today: dt.date, rows) -> rules.Outcome:
    on = _parameter_day(app.programme, app.period_start, today)
    params = _params(app.programme, facts, on, app.district_id, rows=rows)
    return rules.evaluate(app.programme.rule_code, facts, params, app.period_start, today)


def subsidy_check(*, application_id: int, sequence: int | None = None, reason: str = "", rows=None) -> bool:
    """Run the programme's rule for one check request and store the result with the rule's
    version and the parameter values used; move the application to eligible or not and tell
    the applicant when the outcome is new. Idempotent per request: a redelivered task finds
    its result stored and does nothing."""
    return _checks_run([(application_id, sequence)], reason=reason, rows=rows) == 1


def subsidy_checks_run(*, application_ids: list[int], reason: str = "batch") -> int:
    """Check many applications in one task: the facts of the whole batch are read with one
    query per kind of fact, the parameter rows once, and the results stored in one
    transaction, so the number of queries per check does not grow with the batch and a
    worker killed half-way leaves nothing half-stored (the redelivered task does it all)."""
    return _checks_run([(pk, None) for pk in application_ids], reason=reason)


def _checks_run(requests: list[tuple[int, int | None]], *, reason: str, rows=None) -> int:
    """Check each (application, check request) pair; ``None`` means the latest request. A
    request that a newer one superseded, or whose result is stored, is skipped."""
    today = timezone.localdate()
    ids = [pk for pk, _sequence in requests]
    apps = {
        app.pk: app
        for app in SubsidyApplication.objects.filter(pk__in=ids, status__in=OPEN_SUBSIDY_STATES).select_related(
            "programme", "applicant", "organisation__district"
        )
    }
    wanted = {pk: sequence or apps[pk].check_sequence for pk, sequence in requests if pk in apps}
    stored = set(
        EligibilityCheck.objects.filter(application_id__in=list(wanted)).values_list("application_id", "sequence")
    )
    todo = [apps[pk] for pk, seq in wanted.items() if seq == apps[pk].check_sequence and (pk, seq) not in stored]
    if not todo:
        return 0
    rows = _subsidy_parameter_rows() if rows is None else rows
    facts = selectors.subsidy_facts_many(applications=todo)
    outcomes: dict[int, rules.Outcome] = {}
    for app in todo:
        try:
            # The stored criteria are read by the applicant: in their language.
            with translation.override(app.applicant.language or settings.LANGUAGE_CODE):
                outcomes[app.pk] = _evaluate_stored(app, facts[app.pk], today, rows)
        except LookupError:
            # A parameter has no value in force: staff must enter one. The request stays
            # open; the parameter's save re-checks every open application.
            logger.exception("Subsidy check of %s is impossible: a parameter is missing", app.reference)
    with transaction.atomic():
        # Lock in primary-key order, so batches that share applications never deadlock, and
        # look again under the lock: another worker may have stored the result meanwhile.
        locked = {
            pk: (status, sequence)
            for pk, status, sequence in SubsidyApplication.objects.select_for_update()
            .filter(pk__in=list(outcomes))
            .order_by("pk")
            .values_list("pk", "status", "check_sequence")
        }
        stored = set(
            EligibilityCheck.objects.filter(application_id__in=list(locked)).values_list("application_id", "sequence")
        )
        fresh = [
            app
            for app in todo
            if app.pk in locked
            and locked[app.pk][0] in OPEN_SUBSIDY_STATES
            and locked[app.pk][1] == wanted[app.pk]
            and (app.pk, wanted[app.pk]) not in stored
        ]
        if not fresh:
            return 0
        EligibilityCheck.objects.bulk_create(
            [
                EligibilityCheck(
                    application=app,
                    sequence=wanted[app.pk],
                    eligible=outcomes[app.pk].result.eligible,
                    amount=outcomes[app.pk].amount,
                    rule_version=rules.RULES[app.programme.rule_code].version,
                    result=outcomes[app.pk].result.as_dict(),
                    reason=reason[:100],
                )
                for app in fresh
            ]
        )
        for app in fresh:
            app.eligibility = outcomes[app.pk].result.as_dict()
            app.amount = outcomes[app.pk].amount
            app.status = locked[app.pk][0]
        SubsidyApplication.objects.bulk_update(fresh, ["eligibility", "amount"])
        for app in fresh:
            result = outcomes[app.pk].result
            target = S.ELIGIBLE if result.eligible else S.INELIGIBLE
            if app.status == target:
                continue  # the outcome is not new: nothing to tell
            portal_services.transition(obj=app, to=target, actor=None, reason=reason)
            failures = "；".join(str(c.message) for c in result.failures)
            portal_services.notify(
                user=app.applicant,
                kind="subsidy_eligible" if result.eligible else "subsidy_ineligible",
                context={
                    "programme": app.programme.name,
                    "reference": app.reference,
                    "amount": f"{app.amount}",
                    "reasons": failures or "-",
                    "link": _link(),
                },
            )
    return len(fresh)


def subsidies_recheck(*, user_ids: Iterable[int] = (), all_open: bool = False, reason: str) -> int:
    """A fact of these people (profile, hire, lease) or a parameter changed: their open
    applications are checked again, in batches."""
    from subsidies.tasks import subsidy_checks_batch

    qs = SubsidyApplication.objects.filter(status__in=OPEN_SUBSIDY_STATES)
    if not all_open:
        ids = list(user_ids)
        if not ids:
            return 0
        qs = qs.filter(beneficiary_id__in=ids) | qs.filter(applicant_id__in=ids)
    with transaction.atomic():
        pks = list(qs.select_for_update().order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), CHECK_BATCH):
            batch = pks[start : start + CHECK_BATCH]
            # One request more for each: a check still queued for an older request is
            # superseded and does nothing.
            SubsidyApplication.objects.filter(pk__in=batch).update(check_sequence=F("check_sequence") + 1)
            transaction.on_commit(lambda b=batch: subsidy_checks_batch.delay(b, reason))
    return len(pks)


# --- staff review -------------------------------------------------------------------------------


def subsidy_review_start(*, application: SubsidyApplication, actor: User) -> AuditEntry:
    return portal_services.transition(obj=application, to=S.UNDER_REVIEW, actor=actor)


def _lock_programme(programme_id: int) -> Programme:
    """The programme's row lock: its approvals go one at a time, so each reads the budget
    committed and the facts other approvals change (once per person, months per business)
    as the previous approval left them."""
    return Programme.objects.select_for_update().get(pk=programme_id)


def _commit_budget(app: SubsidyApplication, programme: Programme, amount: Decimal, year: int) -> None:
    """Commit ``amount`` of the programme's budget for ``year`` (the caller holds the
    programme's row lock), or refuse with how much is left."""
    committed = LedgerEntry.objects.filter(programme=programme, budget_year=year, released=False).aggregate(
        total=Sum("amount")
    )["total"] or Decimal("0")
    if committed + amount > programme.yearly_budget:
        raise ValidationError(
            _("Approving %(amount)s would exceed the %(year)d budget of %(programme)s: %(left)s left.")
            % {
                "amount": amount,
                "year": year,
                "programme": programme.name,
                "left": programme.yearly_budget - committed,
            },
            code="budget",
        )
    LedgerEntry.objects.update_or_create(
        application=app,
        defaults={"programme": programme, "budget_year": year, "amount": amount, "released": False},
    )


def _notice_days(app: SubsidyApplication, today: dt.date) -> int:
    return int(parameter_value(key=c.NOTICE_DAYS, on=today, district_id=app.district_id, default=5))


def _start_notice(app: SubsidyApplication, actor: User, today: dt.date) -> None:
    app.notice_ends_on = today + dt.timedelta(days=_notice_days(app, today))
    SubsidyApplication.objects.filter(pk=app.pk).update(notice_ends_on=app.notice_ends_on)
    portal_services.transition(obj=app, to=S.NOTICE, actor=actor)


def _verify_still_eligible(app: SubsidyApplication, today: dt.date) -> None:
    facts = selectors.subsidy_facts_many(applications=[app])[app.pk]
    outcome = _evaluate_stored(app, facts, today, rows=None)
    if not outcome.result.eligible:
        raise ValidationError(
            _("The application no longer meets every criterion: %(reasons)s")
            % {"reasons": "；".join(str(c.message) for c in outcome.result.failures)},
            code="not_eligible",
        )


def _recheck_person(user_id: int) -> None:
    """After an approval: the person's other open applications are checked again (a
    programme that cannot be combined with the approved one now fails)."""
    from subsidies.tasks import subsidies_recheck_users

    subsidies_recheck_users.delay([user_id], "approved")


def subsidy_approve(
    *, application: SubsidyApplication, actor: User, amount: Decimal | None = None
) -> SubsidyApplication:
    """Approve: the amount is committed against the programme's yearly budget (refused if it
    would overspend it). Amounts above the configured limit wait for a second staff
    member's approval; otherwise the public notice starts at once. Referrals (a loan) go to
    the bank instead."""
    today = timezone.localdate()
    with transaction.atomic():
        app = (
            SubsidyApplication.objects.select_for_update(of=("self",))
            .select_related("programme", "organisation__district")
            .get(pk=application.pk)
        )
        if not _staff(actor, app):
            raise PermissionDenied
        if app.status not in (S.ELIGIBLE, S.UNDER_REVIEW):
            raise ValidationError(_("Only a checked, eligible application can be approved."), code="status")
        # Under the programme's lock the rule runs again: an approval since the check (of
        # this programme, or of one that cannot be combined with it) may exclude this one.
        programme = _lock_programme(app.programme_id)
        app.programme = programme
        _verify_still_eligible(app, today)
        transaction.on_commit(partial(_recheck_person, app.beneficiary_id or app.applicant_id))
        if not programme.pays_money:
            portal_services.transition(obj=app, to=S.REFERRED, actor=actor)
            application.refresh_from_db()
            return application
        if amount is not None:
            amount = Decimal(amount).quantize(Decimal("0.01"))
            if programme.rule_code == RuleCode.UNIVERSITY_BASE:
                try:
                    low = Decimal(parameter_value(key=c.BASE_MIN, on=today))
                    high = Decimal(parameter_value(key=c.BASE_MAX, on=today))
                except LookupError as exc:
                    raise ValidationError(
                        _("The range of this programme's amount is not set: city staff must enter it first."),
                        code="parameter",
                    ) from exc
                if not low <= amount <= high:
                    raise ValidationError(
                        _("The amount must be between %(low)s and %(high)s.") % {"low": low, "high": high},
                        code="amount",
                    )
            elif amount != app.amount:
                raise ValidationError(_("The amount of this programme is set by its rule."), code="amount")
            app.amount = amount
        if app.amount <= 0:
            raise ValidationError(_("The amount is zero: nothing to approve."), code="amount")
        _commit_budget(app, programme, app.amount, today.year)
        SubsidyApplication.objects.filter(pk=app.pk).update(amount=app.amount, reviewed_by=actor)
        app.reviewed_by = actor
        portal_services.transition(obj=app, to=S.APPROVED, actor=actor)
        limit = Decimal(parameter_value(key=c.SECOND_APPROVAL_ABOVE, on=today, district_id=app.district_id, default=0))
        if not limit or app.amount <= limit:
            _start_notice(app, actor, today)
    application.refresh_from_db()
    return application


def subsidy_second_approve(*, application: SubsidyApplication, actor: User) -> SubsidyApplication:
    """A second staff member confirms a large approval; then the public notice starts."""
    today = timezone.localdate()
    with transaction.atomic():
        app = SubsidyApplication.objects.select_for_update().get(pk=application.pk)
        if not _staff(actor, app):
            raise PermissionDenied
        if app.status != S.APPROVED:
            raise ValidationError(_("Only an approved application waits for a second approval."), code="status")
        if app.reviewed_by_id == actor.pk:
            raise ValidationError(_("The second approval must come from another staff member."), code="same_person")
        SubsidyApplication.objects.filter(pk=app.pk).update(second_approved_by=actor)
        app.second_approved_by = actor
        _start_notice(app, actor, today)
    application.refresh_from_db()
    return application


def subsidy_reject(*, application: SubsidyApplication, actor: User, reason: str) -> AuditEntry:
    return portal_services.transition(obj=application, to=S.REJECTED, actor=actor, reason=reason)


def objection_file(*, application: SubsidyApplication, actor: User, text: str) -> Objection:
    """Anyone signed in may object during the public notice; staff must resolve it."""
    text = (text or "").strip()
    if not actor.is_authenticated:
        raise PermissionDenied
    if len(text) < 10:
        raise ValidationError(_("Please describe the objection in at least 10 characters."), code="text")
    with transaction.atomic():
        app = SubsidyApplication.objects.select_for_update().get(pk=application.pk)
        if app.status != S.NOTICE:
            raise ValidationError(_("Objections can be filed only during the public notice."), code="status")
        if actor.pk in (app.applicant_id, app.beneficiary_id):
            raise ValidationError(_("You cannot object to your own application."), code="own")
        objection = Objection.objects.create(application=app, filed_by=actor, text=text[:4000])
        staff = district_staff(district_id=app.district_id)
        link = reverse("admin:subsidies_objection_change", args=[objection.pk])
        for member in staff:
            portal_services.notify(
                user=member,
                kind="subsidy_objection",
                context={"programme": app.programme.name, "reference": app.reference, "link": link},
            )
    return objection


def objection_resolve(*, objection: Objection, actor: User, upheld: bool, resolution: str) -> Objection:
    """Staff decide an objection: upheld rejects the application (its money is released);
    dismissed lets the notice run on."""
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError(_("Please write how the objection was resolved."), code="resolution")
    with transaction.atomic():
        locked = Objection.objects.select_for_update().select_related("application").get(pk=objection.pk)
        if not _staff(actor, locked.application):
            raise PermissionDenied
        if locked.status != ObjectionStatus.OPEN:
            raise ValidationError(_("This objection is already resolved."), code="resolved")
        locked.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
        locked.resolution = resolution
        locked.resolved_by = actor
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
        if upheld and locked.application.status == S.NOTICE:
            portal_services.transition(
                obj=locked.application,
                to=S.REJECTED,
                actor=actor,
                reason=_("Objection upheld: %(r)s") % {"r": resolution},
            )
        else:
            portal_services.audit_record(
                actor=actor,
                action=AuditAction.DECISION,
                target=locked.application,
                reason=_("Objection dismissed: %(r)s") % {"r": resolution},
            )
    return locked


def subsidy_notices_close(*, today: dt.date | None = None) -> int:
    """Celery beat: a notice that has run its days with no open objection becomes payable."""
    today = today or timezone.localdate()
    done = 0
    due = SubsidyApplication.objects.filter(status=S.NOTICE, notice_ends_on__lt=today).exclude(
        objections__status=ObjectionStatus.OPEN
    )
    for app in due:
        try:
            portal_services.transition(obj=app, to=S.PAYABLE, actor=None, reason=_("Public notice ended"))
        except ValidationError:
            continue
        done += 1
    return done


def subsidy_pay(*, application: SubsidyApplication, actor: User, reference: str) -> SubsidyApplication:
    """Finance has paid: the ledger entry records when, by whom and the bank reference."""
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError(_("Give the payment reference."), code="reference")
    with transaction.atomic():
        app = SubsidyApplication.objects.select_for_update().get(pk=application.pk)
        if not _staff(actor, app):
            raise PermissionDenied
        if app.status != S.PAYABLE:
            raise ValidationError(_("Only a payable application can be paid."), code="status")
        updated = LedgerEntry.objects.filter(application=app, released=False, paid_at__isnull=True).update(
            paid_at=timezone.now(), paid_by=actor, payment_reference=reference[:60]
        )
        if not updated:
            raise ValidationError(_("No committed money of this application is waiting for payment."), code="ledger")
        portal_services.transition(obj=app, to=S.PAID, actor=actor, reason=reference)
    application.refresh_from_db()
    return application


# --- proactive screening ------------------------------------------------------------------------

SCREENED_RULES = (RuleCode.INTERVIEW_TRAVEL, RuleCode.RENT_SUBSIDY)
SCREEN_CHUNK = 500  # graduates whose facts are read together


def subsidies_screen(*, user_ids: Iterable[int] | None = None, today: dt.date | None = None) -> int:
    """免申即享: tell graduates who now qualify for a graduate programme they have not applied
    to (once per programme, through their chosen channels). The graduates are read in
    chunks whose facts are loaded together."""
    today = today or timezone.localdate()
    told = 0
    programmes = [
        p
        for p in selectors.programmes_open(applicant_kind=ApplicantKind.GRADUATE, on=today)
        if p.rule_code in SCREENED_RULES
    ]
    graduates = User.objects.filter(role=Role.GRADUATE, is_active=True, profile__isnull=False).select_related("profile")
    if user_ids is not None:
        graduates = graduates.filter(pk__in=list(user_ids))
    rows = _subsidy_parameter_rows() if programmes else []
    for programme in programmes:
        details = {"months": 12} if programme.rule_code == RuleCode.RENT_SUBSIDY else {}
        start, end, _key = _period(programme, None, details, today)
        candidates = (
            graduates.exclude(
                Exists(SubsidyApplication.objects.filter(programme=programme, beneficiary=OuterRef("pk")))
            )
            .exclude(Exists(ScreeningNotice.objects.filter(programme=programme, user=OuterRef("pk"))))
            .order_by("pk")
        )
        chunk: list[User] = []
        for user in candidates.iterator(chunk_size=SCREEN_CHUNK):
            chunk.append(user)
            if len(chunk) == SCREEN_CHUNK:
                told += _screen_chunk(programme, chunk, details, start, end, today, rows)
                chunk = []
        if chunk:
            told += _screen_chunk(programme, chunk, details, start, end, today, rows)
    return told


def _screen_chunk(programme, users: list[User], details: dict, start, end, today, rows) -> int:
    requests = [
        selectors.FactRequest(
            programme=programme,
            applicant_id=user.pk,
            person_id=user.pk,
            organisation=None,
            job_application_id=None,
            details=details,
            period_start=start,
            period_end=end,
        )
        for user in users
    ]
    told = 0
    on = _parameter_day(programme, start, today)
    for user, facts in zip(users, selectors.facts_for(requests=requests), strict=True):
        try:
            params = _params(programme, facts, on, user.profile.district_id, rows=rows)
        except LookupError:
            continue
        outcome = rules.evaluate(programme.rule_code, facts, params, start, today)
        if not outcome.result.eligible:
            continue
        with transaction.atomic():
            _notice, created = ScreeningNotice.objects.get_or_create(user=user, programme=programme)
            if created:
                portal_services.notify(
                    user=user,
                    kind="subsidy_screening",
                    context={
                        "programme": programme.name,
                        "amount": f"{outcome.amount}",
                        "link": reverse("subsidies:programme", args=[programme.code]),
                    },
                )
                told += 1
    return told
