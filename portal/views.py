from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET, require_POST

from portal import selectors, services
from portal.constants import AuditAction, Role
from portal.dashboard import dashboard_for
from portal.forms import (
    ConsentForm,
    DeletionConfirmForm,
    DocumentUploadForm,
    NotificationPreferenceForm,
    OrganisationForm,
    ProfileForm,
)
from portal.loadshed import is_api_request
from portal.models import Document, NotificationPreference
from portal.web import form_add_errors, messages_from


def home(request):
    return render(request, "portal/home.html")


@login_required
def profile(request):
    profile = services.profile_get_or_create(user=request.user)
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=profile)
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "id_number"}
            try:
                services.profile_update(user=request.user, data=data, id_number=form.cleaned_data["id_number"])
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Your profile has been saved."))
                return redirect("portal:profile")
        profile.refresh_from_db()
    else:
        form = ProfileForm(instance=profile)
    documents = list(selectors.documents_of(user=request.user))
    consent = selectors.has_current_consent(user=request.user)
    completeness = selectors.profile_completeness(
        profile=profile, consent=consent, documents={d.kind for d in documents}
    )
    return render(
        request,
        "portal/profile.html",
        {
            "form": form,
            "profile": profile,
            "documents": documents,
            "upload_form": DocumentUploadForm(),
            "consent_form": ConsentForm(),
            "consent": consent,
            "consent_version": settings.PORTAL_CONSENT_VERSION,
            "completeness": completeness,
        },
    )


@login_required
@require_POST
def consent(request):
    if request.POST.get("withdraw"):
        services.consent_withdraw(user=request.user)
        messages.info(
            request, _("Your consent has been withdrawn. You cannot apply to programmes until you consent again.")
        )
        return redirect("portal:profile")
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.consent_give(user=request.user)
        messages.success(request, _("Thank you. Your consent has been recorded."))
    else:
        messages.error(request, form.errors["agree"][0])
    return redirect("portal:profile")


@login_required
@require_POST
def document_upload(request):
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.document_upload(
                owner=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, _("The document has been uploaded."))
    else:
        messages_from(request, form)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("portal:profile")


@login_required
@require_POST
def document_delete(request, pk: int):
    document = get_object_or_404(Document, pk=pk, owner=request.user)
    services.document_delete(document=document, actor=request.user)
    messages.success(request, _("The document has been deleted."))
    return redirect("portal:profile")


@login_required
@require_GET
def document_download(request, pk: int):
    document = selectors.document_for_reader(reader=request.user, pk=pk)
    if document is None:
        raise Http404
    if not document.file.storage.exists(document.file.name):
        raise Http404
    if document.owner_id != request.user.pk:  # staff or an employer opening someone's papers
        services.audit_record(actor=request.user, action=AuditAction.PII_VIEW, target=document)
    response = FileResponse(
        document.file.open("rb"),
        content_type=document.content_type,
        as_attachment=not document.is_image and request.GET.get("inline") != "1",
        filename=f"document-{document.pk}.{document.extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def inbox(request):
    page = Paginator(selectors.notifications_for(user=request.user), 20).get_page(request.GET.get("page"))
    preference = NotificationPreference.objects.filter(user=request.user).first() or NotificationPreference(
        user=request.user
    )
    return render(
        request,
        "portal/inbox.html",
        {"page": page, "preference_form": NotificationPreferenceForm(instance=preference)},
    )


@login_required
@require_POST
def inbox_mark_read(request):
    raw = request.POST.get("id")
    ids = [int(raw)] if raw and raw.isdigit() else None
    services.notifications_mark_read(user=request.user, ids=ids)
    return redirect("portal:inbox")


@login_required
@require_POST
def inbox_preferences(request):
    form = NotificationPreferenceForm(request.POST)
    if form.is_valid():
        services.notification_preference_update(
            user=request.user, email=form.cleaned_data["email"], sms=form.cleaned_data["sms"]
        )
        messages.success(request, _("Your notification settings have been saved."))
    return redirect("portal:inbox")


@login_required
def organisation_list(request):
    organisations = selectors.organisations_of_member(user=request.user)
    return render(request, "portal/organisation_list.html", {"organisations": organisations})


@login_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_register(user=request.user, data=form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Your organisation has been registered and is waiting for verification."))
            return redirect("portal:organisation_detail", pk=org.pk)
    return render(request, "portal/organisation_form.html", {"form": form})


@login_required
def organisation_detail(request, pk: int):
    org = get_object_or_404(selectors.organisations_of_member(user=request.user), pk=pk)
    form = OrganisationForm(request.POST or None, instance=org)
    if request.method == "POST":
        if org.is_verified:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.organisation_update(organisation=org, actor=request.user, data=form.cleaned_data)
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Your changes have been saved and sent for verification."))
                return redirect("portal:organisation_detail", pk=org.pk)
    documents = org.documents.all()
    return render(
        request,
        "portal/organisation_detail.html",
        {
            "organisation": org,
            "form": form,
            "documents": documents,
            # Both forms have a "kind" field: the upload's ids must not repeat the details' ones
            # (its label would point at the organisation's ownership select).
            "upload_form": DocumentUploadForm(auto_id="id_document_%s"),
        },
    )


@login_required
@require_POST
def organisation_document_upload(request, pk: int):
    org = get_object_or_404(selectors.organisations_of_member(user=request.user), pk=pk)
    form = DocumentUploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.document_upload(
                owner=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], organisation=org
            )
        except ValidationError as exc:
            for msg in exc.messages:
                messages.error(request, msg)
        else:
            messages.success(request, _("The document has been uploaded."))
    else:
        messages_from(request, form)
    return redirect("portal:organisation_detail", pk=org.pk)


@require_GET
def healthz(request):
    """200 when the database (and the broker, where one is configured) answers."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception:  # report, never raise: this is the load balancer's probe
        checks["database"] = "error"
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        from portal.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception:
            checks["broker"] = "error"
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)


@login_required
@require_GET
def data_export(request):
    """The signed-in person's copy of everything the portal holds about them, as JSON."""
    import json

    from django.http import HttpResponse

    from portal.privacy import personal_data_export

    data = personal_data_export(user=request.user)
    services.audit_record(actor=request.user, action=AuditAction.EXPORT, target=request.user, reason="data export")
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@reauthentication_required(allow_get=True)
def deletion_request(request):
    """The graduate deletes their account: what is deleted and what the city keeps, what to
    settle first, and a confirmation that needs a fresh sign-in (password or SMS code, as
    at sign-in; allauth asks before the POST goes through)."""
    obligations = services.deletion_obligations(user=request.user)
    form = DeletionConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid() and not obligations:
        try:
            services.deletion_request(user=request.user)
        except services.DeletionRefused as exc:
            obligations = exc.messages
        else:
            logout(request)
            messages.success(
                request,
                _(
                    "Your account has been deleted. Your personal data is being anonymised; the decisions "
                    "the city must keep remain under a pseudonym."
                ),
            )
            return redirect("portal:home")
    return render(request, "portal/deletion_request.html", {"form": form, "obligations": obligations})


@login_required
@require_GET
def applications(request):
    """The page "My applications": every application, stay and registration of the signed-in person
    across the programmes, with its status and the next step, newest first; closed items
    older than ``dashboard.RECENT_DAYS`` only with ``?closed=1``. Employers and staff are
    pointed to their own dashboards; a graduate without a complete profile is asked to
    complete it (every programme reads it)."""
    user = request.user
    board = dashboard_for(user=user, show_closed=request.GET.get("closed") == "1")
    is_graduate = user.role == Role.GRADUATE
    profile = getattr(user, "profile", None) if is_graduate else None
    needs_profile = is_graduate and (profile is None or bool(selectors.profile_completeness(profile=profile).missing))
    return render(
        request,
        "portal/applications.html",
        {
            "board": board,
            "is_graduate": is_graduate,
            "needs_profile": needs_profile,
            "is_member": user.role == Role.EMPLOYER or selectors.organisations_of_member(user=user).exists(),
        },
    )


# --- error pages of addresses Django answers before any view (portal/urls.py handlers) ------


def page_not_found(request, exception):
    """An address no URL pattern takes (e.g. ``/api/v1/positions/abc/``): API clients get the
    API's own JSON 404, people the portal's page."""
    if is_api_request(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request, exception):
    """A request Django refuses before any view (more than 1,000 form fields, a malformed
    body): JSON for the API, the plain page otherwise."""
    if is_api_request(request):
        return JsonResponse({"detail": _("The request could not be read. Please check what was sent.")}, status=400)
    return defaults.bad_request(request, exception)
