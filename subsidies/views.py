"""HTML pages of the subsidy programmes: the list of open programmes, each programme's page
with the signed-in graduate's or employer's criteria (✓/✗ with the values used) and the
amount before applying, the application (or claim) form, "My subsidies" with the last
check and a withdraw button, each application's page with its checks, and the public
notice board (公示) on which anyone signed in can file an objection."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import selectors as portal_selectors
from portal.constants import DocumentKind, Role
from portal.validators import mask_name
from portal.web import messages_from
from portal.workflow import workflow_for
from subsidies import selectors, services
from subsidies.constants import (
    ACTIVE_SUBSIDY_STATES,
    ApplicantKind,
    LoanProduct,
    PeriodKind,
    SubsidyStatus,
)
from subsidies.forms import HIRE_RULES, ObjectionForm, SubsidyApplicationForm
from subsidies.models import Objection, Programme, SubsidyApplication

NOTICES_PER_PAGE = 50
# A service's error code → the field of the application form it belongs to (the others,
# e.g. a closed programme or a duplicate, are shown above the form).
APPLICATION_ERROR_FIELDS = {"documents": "documents", "hire": "job_application"}
# Criteria a graduate meets by completing their profile (the page links to it when one fails).
PROFILE_CRITERIA = {"profile", "graduation", "hukou", "works_in_luoyang"}


# --- who may apply ------------------------------------------------------------------------------


class Standing:
    """What the signed-in user may do under a programme: apply as a graduate, claim for
    one of their organisations, or neither (with the reason in plain words)."""

    def __init__(self, user, programme: Programme, organisations=None):
        self.programme = programme
        self.organisations = [] if organisations is None else organisations
        self.allowed = False
        self.reason = ""
        if not user.is_authenticated:
            return
        if programme.applicant_kind == ApplicantKind.GRADUATE:
            self.allowed = user.role == Role.GRADUATE
            self.reason = "" if self.allowed else _("Only graduates apply for this programme.")
        else:
            self.allowed = bool(self.organisations)
            self.reason = (
                ""
                if self.allowed
                else _("Only members of an employer registered in the portal can claim this subsidy.")
            )


def _organisations(user) -> list:
    if not user.is_authenticated:
        return []
    return list(portal_selectors.organisations_of_member(user=user))


def _programme(code: str) -> Programme:
    return get_object_or_404(Programme.objects.prefetch_related("excludes"), code=code, active=True)


def _hires(user, programme: Programme) -> list:
    if programme.rule_code not in HIRE_RULES:
        return []
    organisations = portal_selectors.organisations_of_member(user=user)
    return list(selectors.claimable_hires(organisations=organisations, programme=programme)[:500])


def _required_documents(programme: Programme) -> list[str]:
    return [str(DocumentKind(k).label) for k in programme.required_documents if k in DocumentKind.values]


def _forbidden(request, programme: Programme, reason: str):
    return render(request, "subsidies/not_allowed.html", {"programme": programme, "reason": reason}, status=403)


# --- the preview: the same rule the check runs ----------------------------------------------------


def _preview(user, programme: Programme, form: SubsidyApplicationForm) -> dict:
    """The criteria with ✓/✗ and the amount for what the form holds, or why there is none
    yet (an employer has to choose the trainee or hire first)."""
    values = form.values()
    kwargs = {"details": values["details"], "period_start": values["period_start"]}
    if programme.applicant_kind == ApplicantKind.EMPLOYER:
        hire = values["hire"]
        if programme.rule_code in HIRE_RULES:
            if hire is None:
                return {"preview_waiting": _("Choose the graduate to see the criteria and the amount.")}
            kwargs.update(beneficiary=hire.applicant, job_application_id=hire.pk)
        elif values["organisation"] is None:
            return {"preview_waiting": _("Choose the organisation to see the criteria and the amount.")}
        kwargs["organisation"] = values["organisation"]
    try:
        outcome = services.subsidy_eligibility(programme=programme, applicant=user, **kwargs)
    except LookupError:
        return {"preview_waiting": _("The criteria cannot be shown now: a policy value is missing. Please try later.")}
    eligibility = outcome.result.as_dict()
    return {
        "eligibility": eligibility,
        "amount": outcome.amount,
        "fix_in_profile": programme.applicant_kind == ApplicantKind.GRADUATE
        and any(c.code in PROFILE_CRITERIA for c in outcome.result.failures),
    }


def _existing_once(user, programme: Programme) -> SubsidyApplication | None:
    """A graduate's active application of a once-per-person programme (a second one is
    refused)."""
    if programme.applicant_kind != ApplicantKind.GRADUATE or programme.period_kind != PeriodKind.ONCE:
        return None
    return SubsidyApplication.objects.filter(
        programme=programme, beneficiary=user, status__in=ACTIVE_SUBSIDY_STATES
    ).first()


def _form(request, programme: Programme, standing: Standing, *, data=None, documents=None):
    hires = _hires(request.user, programme) if standing.allowed else []
    return SubsidyApplicationForm(
        data,
        programme=programme,
        organisations=standing.organisations,
        hires=hires,
        documents=documents,
    )


# --- public pages -------------------------------------------------------------------------------


def programmes(request):
    found = selectors.programmes_open()
    is_graduate = request.user.is_authenticated and request.user.role == Role.GRADUATE
    organisations = _organisations(request.user)
    for p in found:
        p.required_labels = _required_documents(p)
        p.for_me = (p.applicant_kind == ApplicantKind.GRADUATE and is_graduate) or (
            p.applicant_kind == ApplicantKind.EMPLOYER and bool(organisations)
        )
    return render(
        request,
        "subsidies/programmes.html",
        {
            "programmes": found,
            "graduate_programmes": [p for p in found if p.applicant_kind == ApplicantKind.GRADUATE],
            "employer_programmes": [p for p in found if p.applicant_kind == ApplicantKind.EMPLOYER],
            "mine": [p for p in found if p.for_me],
            "is_graduate": is_graduate,
            "organisations": organisations,
        },
    )


def programme(request, code: str):
    programme = _programme(code)
    today = timezone.localdate()
    standing = Standing(request.user, programme, _organisations(request.user))
    context = {
        "programme": programme,
        "standing": standing,
        "is_open": programme.is_open_on(today),
        "required_labels": _required_documents(programme),
    }
    if standing.allowed:
        form = _form(request, programme, standing, data=request.GET or None)
        context.update(
            form=form,
            has_inputs=bool(form.fields),
            no_hires=programme.rule_code in HIRE_RULES and not form.hires,
            existing=_existing_once(request.user, programme),
            my_applications=list(
                selectors.applications_of(user=request.user)
                .filter(programme=programme)
                .exclude(status=SubsidyStatus.WITHDRAWN)[:10]
            ),
            apply_query=request.GET.urlencode(),
            **_preview(request.user, programme, form),
        )
        for app in context["my_applications"]:
            app.period_label = selectors.period_label(app)
    return render(request, "subsidies/programme.html", context)


@login_required
def apply(request, code: str):
    programme = _programme(code)
    standing = Standing(request.user, programme, _organisations(request.user))
    if not standing.allowed:
        return _forbidden(request, programme, standing.reason)
    documents = portal_selectors.documents_of(user=request.user).select_related("organisation")
    posted = request.method == "POST"
    # "Update the criteria" posts the form to see the preview again without sending it.
    submitted = posted and request.POST.get("action") != "preview"
    form = _form(
        request, programme, standing, data=request.POST if posted else (request.GET or None), documents=documents
    )
    if submitted and form.is_valid():
        values = form.values()
        organisation = values["organisation"] if programme.applicant_kind == ApplicantKind.EMPLOYER else None
        try:
            application = services.subsidy_application_create(
                programme=programme,
                applicant=request.user,
                organisation=organisation,
                job_application_id=values["hire"].pk if values["hire"] else None,
                period_start=values["period_start"],
                details=values["details"],
                documents=values["documents"],
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except PermissionDenied as exc:
            return _forbidden(request, programme, str(exc) if exc.args else standing.reason)
        else:
            messages.success(
                request,
                _(
                    "Your application %(reference)s has been sent. Its eligibility check is running: "
                    "the result appears below in a moment."
                )
                % {"reference": application.reference},
            )
            return redirect("subsidies:mine")
    today = timezone.localdate()
    existing = None if form.is_bound else _existing_once(request.user, programme)
    context = {
        "programme": programme,
        "standing": standing,
        "form": form,
        "submitted": submitted,
        "required_labels": _required_documents(programme),
        "existing": existing,
        # A refused submission keeps its form on the page even if the programme closed meanwhile.
        "show_form": posted or (programme.is_open_on(today) and existing is None),
        "no_hires": programme.rule_code in HIRE_RULES and not form.hires,
        **_preview(request.user, programme, form),
    }
    return render(request, "subsidies/apply.html", context)


def _add_service_errors(form: SubsidyApplicationForm, exc: ValidationError) -> None:
    """A refusal of the application service next to the field it concerns, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    for error in exc.error_list:
        field = APPLICATION_ERROR_FIELDS.get(error.code)
        form.add_error(field if field in form.fields else None, error)


# --- my subsidies -------------------------------------------------------------------------------


def _can_withdraw(app: SubsidyApplication) -> bool:
    return workflow_for(app).get(app.status, SubsidyStatus.WITHDRAWN) is not None


def _person_name(user) -> str:
    profile = getattr(user, "profile", None) if user is not None else None
    return (profile.real_name if profile else "") or ""


@login_required
def mine(request):
    applications = list(selectors.applications_of(user=request.user))
    for app in applications:
        app.period_label = selectors.period_label(app)
        app.can_withdraw = _can_withdraw(app)
        app.checking = app.status == SubsidyStatus.SUBMITTED
        app.beneficiary_name = _person_name(app.beneficiary)
    own = [a for a in applications if a.organisation_id is None]
    claims = [a for a in applications if a.organisation_id is not None]
    return render(
        request,
        "subsidies/mine.html",
        {"own": own, "claims": claims, "is_member": bool(claims) or bool(_organisations(request.user))},
    )


@login_required
def application(request, pk: int):
    app = get_object_or_404(selectors.applications_of(user=request.user), pk=pk)
    app.period_label = selectors.period_label(app)
    app.can_withdraw = _can_withdraw(app)
    app.beneficiary_name = _person_name(app.beneficiary)
    checks = list(app.checks.all())
    for check in checks:
        check.criteria = check.result.get("criteria") or []
    objections = list(app.objections.all())
    return render(
        request,
        "subsidies/application.html",
        {
            "app": app,
            "checks": checks,
            "documents": list(app.documents.all()),
            "history": portal_selectors.status_history(obj=app),
            "objections": objections,
            "details": _details_rows(app),
        },
    )


DETAIL_LABELS = {
    "months": lambda: _("Months claimed"),
    "business_name": lambda: _("Business name"),
    "credit_code": lambda: _("Unified social credit code"),
    "incubator": lambda: _("Incubator"),
    "monthly_rent": lambda: _("Monthly rent of the incubator space (CNY)"),
    "university": lambda: _("Partner university"),
    "base_name": lambda: _("Name of the base"),
    "scale": lambda: _("Scale and results of the base"),
    "product": lambda: _("Loan product"),
    "loan_amount": lambda: _("Loan amount (CNY)"),
}


def _details_rows(app: SubsidyApplication) -> list[tuple[str, str]]:
    rows = []
    for key, value in (app.details or {}).items():
        if key == "product" and value in LoanProduct.values:
            value = LoanProduct(value).label
        label = DETAIL_LABELS.get(key)
        rows.append((label() if label else key, value))
    return rows


@login_required
@require_POST
def withdraw(request, pk: int):
    app = get_object_or_404(selectors.applications_of(user=request.user), pk=pk)
    if not _can_withdraw(app):
        messages.error(request, _("This application can no longer be withdrawn."))
        return redirect("subsidies:mine")
    try:
        services.subsidy_application_withdraw(application=app, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    else:
        messages.success(
            request, _("Your application %(reference)s has been withdrawn.") % {"reference": app.reference}
        )
    return redirect("subsidies:mine")


# --- public notice (公示) -------------------------------------------------------------------------


@login_required
def notices(request):
    page = Paginator(selectors.notice_board(), NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    filed = dict(
        Objection.objects.filter(filed_by=request.user, application_id__in=[a.pk for a in rows])
        .order_by("created_at")
        .values_list("application_id", "created_at")
    )
    for app in rows:
        app.masked_name = mask_name(_person_name(app.beneficiary or app.applicant)) or "—"
        app.period_label = selectors.period_label(app)
        app.my_objection = filed.get(app.pk)
        app.objection_form = ObjectionForm(auto_id=f"id_objection_{app.pk}_%s")
    return render(request, "subsidies/notices.html", {"page": page, "rows": rows, "today": timezone.localdate()})


@login_required
@require_POST
def object_to(request, pk: int):
    # Anything that has been in public notice can be named; the service refuses once the
    # notice is over, with a message that says so.
    app = get_object_or_404(SubsidyApplication, pk=pk, notice_ends_on__isnull=False)
    back = reverse("subsidies:notices") + f"#notice-{app.pk}"
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        messages_from(request, form)
        return redirect(back)
    try:
        services.objection_file(application=app, actor=request.user, text=form.cleaned_data["text"])
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    else:
        messages.success(
            request,
            _("Your objection to %(reference)s has been filed. District staff must resolve it before anything is paid.")
            % {"reference": app.reference},
        )
    return redirect(back)
