"""HTML pages of talent apartments and affordable rentals: the public list and page of each
project with live vacancies, a graduate's criteria with ✓/✗ and the application form, "My
housing" (applications, offers to accept or decline, leases, the yearly re-check), and each
round's public lottery page from which anyone can repeat the draw."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apartments import lottery, selectors, services
from apartments.constants import (
    ACTIVE_HOUSING_STATES,
    ApplicantList,
    HousingApplicationStatus,
    OfferStatus,
    PriorityBucket,
    RoundStatus,
)
from apartments.forms import HousingApplicationForm, OfferDeclineForm, ProjectFilterForm, RecheckForm
from apartments.models import AllocationRound, LeaseRecheck, ProjectPhoto
from portal import selectors as portal_selectors
from portal.constants import Role
from portal.web import messages_from

# A service's error code → the field of the application form it belongs to (the others,
# e.g. a failed eligibility criterion or a closed round, are shown above the form).
APPLICATION_ERROR_FIELDS = {
    "unit_types": "unit_types",
    "household_size": "household_size",
    "no_home_declaration": "no_home_declared",
    "documents": "documents",
}
DRAWN_STATES = (RoundStatus.DRAWN, RoundStatus.CLOSED)


def _is_graduate(user) -> bool:
    return user.is_authenticated and user.role == Role.GRADUATE


def _public_round(pk: int) -> AllocationRound:
    round = selectors.round_public(pk=pk)
    if round is None:
        raise Http404
    return round


def _phase(round: AllocationRound, now) -> tuple[str, str]:
    """Where the round stands, as a code for the page's styling and words for the reader."""
    if round.status == RoundStatus.OPEN:
        if now < round.opens_at:
            return "upcoming", _("Not open for applications yet")
        if now < round.closes_at:
            return "open", _("Taking applications now")
        return "waiting", _("Applications have closed; the draw follows")
    labels = {
        RoundStatus.DRAWING: _("The draw is running"),
        RoundStatus.DRAWN: _("Drawn: units are being offered down the ranks"),
        RoundStatus.CLOSED: _("Closed"),
    }
    return str(round.status), labels.get(round.status, round.get_status_display())


# Criteria a graduate meets by completing their profile (the page links to it when one fails).
PROFILE_CRITERIA = {"profile", "education", "graduation", "works_in_luoyang"}


def _eligibility(*, user, project, no_home_declared=None) -> dict:
    result = services.housing_eligibility(user=user, project=project, no_home_declared=no_home_declared)
    return {"eligibility": result, "fix_in_profile": any(c.code in PROFILE_CRITERIA for c in result.failures)}


def _with_phase(rounds, now):
    for round in rounds:
        round.phase, round.phase_label = _phase(round, now)
    return rounds


# --- public pages -------------------------------------------------------------------------------


def projects(request):
    form = ProjectFilterForm(request.GET or None)
    district = kind = None
    if form.is_bound and form.is_valid():
        district, kind = form.cleaned_data["district"] or None, form.cleaned_data["kind"] or None
    found = list(selectors.projects_public(district_code=district, kind=kind))
    now = timezone.now()
    for project in found:
        _with_phase(project.open_rounds, now)
    return render(
        request,
        "apartments/housing/projects.html",
        {"form": form, "projects": found, "filtered": bool(district or kind)},
    )


def project(request, pk: int):
    project = selectors.project_detail(pk=pk)
    if project is None:
        raise Http404
    now = timezone.now()
    rounds = _with_phase(selectors.rounds_open_of(project=project), now)
    context = {"project": project, "rounds": rounds, "is_graduate": _is_graduate(request.user)}
    if context["is_graduate"]:
        mine = {
            app.round_id: app
            for app in selectors.applications_of(user=request.user).filter(
                round__project=project, status__in=ACTIVE_HOUSING_STATES
            )
        }
        for round in rounds:
            round.my_application = mine.get(round.pk)
        context.update(_eligibility(user=request.user, project=project))
    return render(request, "apartments/housing/project.html", context)


@require_GET
def project_photo(request, pk: int):
    """A photo of a published project (re-encoded without EXIF when staff uploaded it), or its
    thumbnail with ``?size=thumb``."""
    photo = get_object_or_404(ProjectPhoto.objects.select_related("project"), pk=pk, project__published=True)
    picture = photo.thumbnail if request.GET.get("size") == "thumb" else photo.image
    if not picture or not picture.storage.exists(picture.name):
        raise Http404
    content_type = "image/png" if picture.name.lower().endswith(".png") else "image/jpeg"
    response = FileResponse(picture.open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def round_results(request, pk: int):
    """The round's lottery in the open: the public random value with its source, how the
    ranks follow from it, and after the draw the ranks per list with masked names."""
    round = _public_round(pk)
    round.phase, round.phase_label = _phase(round, timezone.now())
    drawn = round.status in DRAWN_STATES
    lists = []
    if drawn:
        results = selectors.round_public_results(round=round)
        mine = set()
        if request.user.is_authenticated:
            mine = {app.reference for app in selectors.applications_of(user=request.user).filter(round=round)}
        for code, label in ApplicantList.choices:
            rows = results.get(code, [])
            for row in rows:
                row["mine"] = row["reference"] in mine
            if rows:
                lists.append({"code": code, "label": label, "rows": rows})
    context = {
        "round": round,
        "project": round.project,
        "drawn": drawn,
        "lists": lists,
        "seed_digest": lottery.seed_digest(round.public_seed, round.pk) if round.seed_published_at else "",
        "unit_counts": round.unit_counts.select_related("unit_type"),
        "groups": [PriorityBucket(code).label for code in round.buckets],
    }
    return render(request, "apartments/housing/round_results.html", context)


@require_GET
def round_draw_input(request, pk: int):
    """What the lottery was fed (application numbers, lists, groups, the public value), to
    run ``python -m apartments.lottery`` on; no names."""
    round = _public_round(pk)
    if round.status not in DRAWN_STATES:
        raise Http404
    response = JsonResponse(selectors.round_draw_input(round=round), json_dumps_params={"ensure_ascii": False})
    response["Content-Disposition"] = f'inline; filename="round-{round.pk}-draw-input.json"'
    return response


# --- applying -----------------------------------------------------------------------------------


def _add_service_errors(form, exc: ValidationError) -> None:
    """A refusal of the application service next to the field it concerns, else above the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return
    for error in exc.error_list:
        form.add_error(APPLICATION_ERROR_FIELDS.get(error.code), error)


@login_required
def apply(request, pk: int):
    round = _public_round(pk)
    project = round.project
    if not _is_graduate(request.user):
        return render(request, "apartments/housing/not_graduate.html", {"project": project, "round": round}, status=403)
    unit_counts = list(round.unit_counts.select_related("unit_type").order_by("-unit_type__area"))
    documents = portal_selectors.documents_of(user=request.user).filter(organisation__isnull=True)
    form = HousingApplicationForm(request.POST or None, unit_counts=unit_counts, documents=documents)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.housing_application_submit(
                applicant=request.user,
                round=round,
                unit_types=list(data["unit_types"]),
                household_size=data["household_size"],
                no_home_declared=data["no_home_declared"],
                documents=list(data["documents"]),
                note=data["note"],
            )
        except ValidationError as exc:
            _add_service_errors(form, exc)
        except PermissionDenied:  # the role was checked above; kept for a role changed meanwhile
            form.add_error(None, _("Only graduates can apply for housing."))
        else:
            messages.success(
                request,
                _("Your application has been sent. District staff check it; you can follow it under “My housing”."),
            )
            return redirect("apartments:my_housing")
    existing = (
        selectors.applications_of(user=request.user).filter(round=round, status__in=ACTIVE_HOUSING_STATES).first()
    )
    declared = ("no_home_declared" in request.POST) if form.is_bound else None
    round.phase, round.phase_label = _phase(round, timezone.now())
    context = {
        "round": round,
        "project": project,
        "form": form,
        "unit_counts": unit_counts,
        "existing": existing if not form.is_bound else None,
        **_eligibility(user=request.user, project=project, no_home_declared=declared),
        # A refused submission keeps its form on the page even if the round closed meanwhile.
        "show_form": form.is_bound or (round.is_open and existing is None),
    }
    return render(request, "apartments/housing/apply.html", context)


# --- my housing ---------------------------------------------------------------------------------


@login_required
def my_housing(request):
    now = timezone.now()
    applications = list(selectors.applications_of(user=request.user))
    for app in applications:
        app.can_withdraw = (
            app.status in (HousingApplicationStatus.SUBMITTED, HousingApplicationStatus.APPROVED)
            and app.round.status == RoundStatus.OPEN
        )
        app.offer_list = list(app.offers.all())
        for offer in app.offer_list:
            offer.answerable = offer.status == OfferStatus.OFFERED and offer.deadline > now
    leases = list(selectors.leases_of(user=request.user))
    for lease in leases:
        lease.rent_after = (lease.monthly_rent * lease.reduced_rent_percent / Decimal(100)).quantize(Decimal("0.01"))
    rechecks = list(selectors.rechecks_waiting(user=request.user))
    for recheck in rechecks:
        # One form per question: ids stay unique on the page, names stay the same.
        recheck.form = RecheckForm(auto_id=f"id_recheck_{recheck.pk}_%s")
    return render(
        request,
        "apartments/housing/my_housing.html",
        {"applications": applications, "leases": leases, "rechecks": rechecks, "decline_form": OfferDeclineForm()},
    )


@login_required
@require_POST
def withdraw(request, pk: int):
    application = get_object_or_404(selectors.applications_of(user=request.user), pk=pk)
    try:
        services.housing_application_withdraw(application=application, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        # The owner is refused only once the round has stopped taking applications.
        messages.error(
            request,
            _("Applications can be withdrawn only while the round takes them; after the draw, decline the offer."),
        )
    else:
        messages.success(request, _("Your application has been withdrawn."))
    return redirect("apartments:my_housing")


@login_required
@require_POST
def offer_accept(request, pk: int):
    offer = get_object_or_404(selectors.offers_of(user=request.user), pk=pk)
    try:
        lease = services.housing_offer_accept(offer=offer, actor=request.user)
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    else:
        messages.success(
            request,
            _("You have accepted unit %(unit)s. Your lease runs from %(start)s to %(end)s.")
            % {"unit": lease.unit.label, "start": f"{lease.start:%Y-%m-%d}", "end": f"{lease.end:%Y-%m-%d}"},
        )
    return redirect("apartments:my_housing")


@login_required
@require_POST
def offer_decline(request, pk: int):
    offer = get_object_or_404(selectors.offers_of(user=request.user), pk=pk)
    form = OfferDeclineForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.housing_offer_decline(offer=offer, actor=request.user, reason=reason)
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    else:
        messages.success(request, _("You have declined the offer. The unit passes to the next applicant in rank."))
    return redirect("apartments:my_housing")


@login_required
@require_POST
def recheck(request, pk: int):
    recheck = get_object_or_404(
        LeaseRecheck.objects.select_related("lease__unit__project"), pk=pk, lease__tenant=request.user
    )
    form = RecheckForm(request.POST)
    if not form.is_valid():
        messages_from(request, form)
        return redirect("apartments:my_housing")
    try:
        services.lease_recheck_answer(recheck=recheck, actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        messages_from(request, exc)
    except PermissionDenied:
        messages.error(request, _("You may not take this decision."))
    else:
        messages.success(request, _("Thank you for your answer."))
    return redirect("apartments:my_housing")
