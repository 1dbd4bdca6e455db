from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jobs import rules, selectors, services
from jobs.constants import SEARCH_CACHE_SECONDS, ApplicationStatus, PositionStatus
from jobs.forms import ApplicationDecisionForm, ApplyForm, InterviewForm, PositionForm, SearchForm
from jobs.models import JobApplication, Position, TraineeshipBase
from portal import selectors as portal_selectors
from portal import services as portal_services
from portal.models import Organisation
from portal.web import form_add_errors, messages_from

PAGE_SIZE = 20


def _filters(form: SearchForm) -> selectors.PositionFilters:
    # A field that does not validate is shown with its error and left out; the valid ones
    # still filter (a wrong salary must not throw away the words typed).
    data = {}
    if form.is_bound:
        form.is_valid()  # fills cleaned_data with the fields that validate
        data = form.cleaned_data
    return selectors.PositionFilters(
        q=data.get("q") or "",
        kind=data.get("kind") or "",
        district=data.get("district") or "",
        industry=data.get("industry") or "",
        education=data.get("education") or "",
        salary_min=data.get("salary_min"),
        base_only=bool(data.get("base_only")),
        sort=data.get("sort") or "newest",
    )


def search(request):
    """The busiest page: the form and the results are the same for everyone who sends the
    same query, so the whole body comes from the shared cache for SEARCH_CACHE_SECONDS."""
    page_number = request.GET.get("page") or "1"
    raw = sorted((k, v) for k, values in request.GET.lists() if k != "page" for v in values)
    key = selectors.search_cache_key(filters=raw, page=page_number, language=get_language())
    body = cache.get(key)
    if body is None:
        form = SearchForm(request.GET or None)
        filters = _filters(form)
        page = Paginator(selectors.positions_search(filters=filters), PAGE_SIZE).get_page(page_number)
        body = render_to_string(
            "jobs/_search_body.html", {"form": form, "page": page, "query": selectors.filters_querystring(filters)}
        )
        if not form.errors:  # a mistyped filter is shown with its message, never cached
            cache.set(key, body, SEARCH_CACHE_SECONDS)
    return render(request, "jobs/search.html", {"body": body})


def position_detail(request, pk: int):
    position = selectors.position_public(pk=pk)
    if position is None:
        raise Http404
    context = {"position": position}
    if request.user.is_authenticated:
        profile = portal_services.profile_get_or_create(user=request.user)
        documents = list(portal_selectors.documents_of(user=request.user).filter(organisation__isnull=True))
        completeness = portal_selectors.profile_completeness(profile=profile, documents={d.kind for d in documents})
        context.update(
            eligibility=rules.can_apply(
                position=position,
                completeness=completeness,
                education_level=profile.education_level,
                today=timezone.localdate(),
            ),
            existing=JobApplication.objects.filter(position=position, applicant=request.user).first(),
            apply_form=ApplyForm(documents=documents),
        )
    return render(request, "jobs/position_detail.html", context)


@login_required
@require_POST
def apply(request, pk: int):
    position = selectors.position_public(pk=pk)
    if position is None:
        raise Http404
    documents = list(portal_selectors.documents_of(user=request.user).filter(organisation__isnull=True))
    form = ApplyForm(request.POST, request.FILES, documents=documents)
    if not form.is_valid():
        messages_from(request, form)
        return redirect("jobs:position", pk=pk)
    try:
        services.job_application_submit(
            position=position,
            applicant=request.user,
            cover_note=form.cleaned_data["cover_note"],
            cv_upload=form.cleaned_data.get("cv"),
            shared_document_ids=[int(x) for x in form.cleaned_data["shared_documents"]],
        )
    except ValidationError as exc:
        messages_from(request, exc)
        return redirect("jobs:position", pk=pk)
    messages.success(request, _("Your application has been sent. You can follow it under “My applications”."))
    return redirect("jobs:my_applications")


@login_required
def my_applications(request):
    applications = list(selectors.applications_of(user=request.user))
    history = selectors.history_for(applications)
    for application in applications:
        application.history = history.get(application.pk, [])
    return render(request, "jobs/my_applications.html", {"applications": applications})


@login_required
@require_POST
def withdraw(request, pk: int):
    application = get_object_or_404(JobApplication, pk=pk, applicant=request.user)
    try:
        services.job_application_withdraw(application=application, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    else:
        messages.success(request, _("Your application has been withdrawn."))
    return redirect("jobs:my_applications")


def bases(request):
    return render(request, "jobs/bases.html", {"bases": selectors.traineeship_bases()})


def base_catalogue(request, pk: int):
    base = get_object_or_404(TraineeshipBase.objects.select_related("organisation__district"), pk=pk, active=True)
    page = Paginator(selectors.base_catalogue(base=base), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "jobs/base_catalogue.html", {"base": base, "page": page})


# --- employer side -------------------------------------------------------------------------


def _member_org(request, org_pk: int) -> Organisation:
    return get_object_or_404(portal_selectors.organisations_of_member(user=request.user), pk=org_pk)


def _member_position(request, pk: int) -> Position:
    return get_object_or_404(selectors.positions_for_member(user=request.user), pk=pk)


@login_required
def employer_dashboard(request):
    organisations = list(portal_selectors.organisations_of_member(user=request.user))
    blocks = [
        {
            "organisation": org,
            "counts": selectors.position_status_counts(organisation=org),
            "positions": selectors.positions_of_organisation(organisation=org),
        }
        for org in organisations
    ]
    return render(request, "jobs/employer_dashboard.html", {"blocks": blocks, "statuses": PositionStatus})


@login_required
def position_create(request, org_pk: int):
    org = _member_org(request, org_pk)
    if not org.is_verified:
        messages.error(
            request, _("Only verified organisations can post positions. Wait for your district to verify yours.")
        )
        return redirect("jobs:employer")
    form = PositionForm(
        request.POST or None,
        initial={"district": org.district_id, "industry": org.industry, "work_address": org.address},
    )
    if request.method == "POST" and form.is_valid():
        try:
            position = services.position_create(organisation=org, actor=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(
                request, _("The position has been saved as a draft. Submit it for review when it is ready.")
            )
            return redirect("jobs:employer_position", pk=position.pk)
    return render(request, "jobs/position_form.html", {"form": form, "organisation": org})


@login_required
def employer_position(request, pk: int):
    position = _member_position(request, pk)
    editable = position.status in (PositionStatus.DRAFT, PositionStatus.REJECTED)
    form = PositionForm(request.POST or None, instance=position) if editable else None
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.position_update(position=position, actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Your changes have been saved."))
                return redirect("jobs:employer_position", pk=pk)
    applications = list(selectors.applications_for_position(position=position))
    return render(
        request,
        "jobs/employer_position.html",
        {"position": position, "form": form, "applications": applications, "statuses": PositionStatus},
    )


@login_required
@require_POST
def position_action(request, pk: int, action: str):
    position = _member_position(request, pk)
    try:
        if action == "submit":
            services.position_submit(position=position, actor=request.user)
            messages.success(request, _("The position has been sent to the district for review."))
        elif action == "close":
            services.position_close(position=position, actor=request.user)
            messages.success(request, _("The position has been closed."))
        else:
            raise Http404
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    return redirect("jobs:employer_position", pk=pk)


@login_required
def employer_application(request, pk: int):
    application = get_object_or_404(selectors.applications_for_member(user=request.user), pk=pk)
    services.job_application_mark_viewed(application=application, actor=request.user)
    which = request.POST.get("form") if request.method == "POST" else None
    interview_form = InterviewForm(request.POST if which == "interview" else None)
    decision_form = ApplicationDecisionForm(request.POST if which == "decision" else None)
    if request.method == "POST":
        try:
            if which == "interview" and interview_form.is_valid():
                services.job_application_invite(
                    application=application, actor=request.user, **interview_form.cleaned_data
                )
                messages.success(request, _("The invitation has been sent."))
                return redirect("jobs:employer_application", pk=pk)
            if which == "decision" and decision_form.is_valid():
                decision = decision_form.cleaned_data["decision"]
                reason = decision_form.cleaned_data["reason"]
                if decision == ApplicationStatus.OFFERED:
                    services.job_application_offer(application=application, actor=request.user)
                elif decision == ApplicationStatus.HIRED:
                    services.job_application_hire(application=application, actor=request.user)
                else:
                    services.job_application_reject(application=application, actor=request.user, reason=reason)
                messages.success(request, _("The application has been updated."))
                return redirect("jobs:employer_application", pk=pk)
        except ValidationError as exc:
            messages_from(request, exc)
        except PermissionDenied:
            messages.error(request, _("You may not take this decision."))
    application.refresh_from_db()
    history = selectors.history_for([application]).get(application.pk, [])
    profile = getattr(application.applicant, "profile", None)
    return render(
        request,
        "jobs/employer_application.html",
        {
            "application": application,
            "profile": profile,
            "history": history,
            "interviews": application.interviews.all(),
            "documents": application.shared_documents.all(),
            "interview_form": interview_form,
            "decision_form": decision_form,
        },
    )
