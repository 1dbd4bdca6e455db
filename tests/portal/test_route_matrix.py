"""A route × role matrix generated from the URL configuration.

Every named route (except the admin, allauth's account pages, i18n, the API schema/docs and
static files) is requested with GET as each role of the permission matrix. A route with
parameters must be listed in ``ROUTE_ARGS``: a new route that is missing there makes
``test_every_route_with_parameters_is_in_the_matrix`` fail, so the matrix grows with the URLs."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.apartments import conftest as housing
from tests.apartments.factories import FollowUpFactory, StationFactory, StayFactory
from tests.events.factories import EventFactory, RegistrationFactory
from tests.jobs.factories import JobApplicationFactory, PositionFactory
from tests.portal.factories import NotificationFactory, OrganisationFactory
from tests.subsidies.conftest import make_subsidy_graduate, with_interview

pytestmark = pytest.mark.django_db

clock = housing.clock  # moves timezone.now to DAY0 (2026-05-11), as the apartments/subsidies tests do

ROLES = ["anonymous", "graduate_a", "graduate_b", "employer_x", "employer_y", "staff_1", "staff_2", "city_staff"]

EXCLUDED_NAMESPACES = {"admin"}
EXCLUDED_NAMES = {"api-schema", "api-docs", "set_language", "healthz"}
EXCLUDED_PREFIXES = ("account_", "socialaccount_", "mfa_")  # allauth


def _walk(resolver: URLResolver, namespace: str = "", prefix_converters: dict | None = None):
    """Yield (full name, converters) of every named pattern under ``resolver``."""
    for pattern in resolver.url_patterns:
        converters = dict(prefix_converters or {})
        converters.update(getattr(pattern.pattern, "converters", {}))
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            if ns in EXCLUDED_NAMESPACES:
                continue
            if str(pattern.pattern).startswith("api/"):
                continue  # the API is covered from its OpenAPI schema below
            if pattern.urlconf_name and getattr(pattern.urlconf_name, "__name__", "") in ("django.conf.urls.i18n",):
                continue
            child_ns = f"{namespace}:{ns}" if (namespace and ns) else (ns or namespace)
            yield from _walk(pattern, child_ns, converters)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = pattern.name
            if name in EXCLUDED_NAMES or name.startswith(EXCLUDED_PREFIXES):
                continue
            if "static" in name or "media" in name:
                continue
            full = f"{namespace}:{name}" if namespace else name
            yield full, {k: type(v).__name__ for k, v in converters.items()}


def all_routes() -> dict[str, dict[str, str]]:
    routes: dict[str, dict[str, str]] = {}
    for full, converters in _walk(get_resolver()):
        routes.setdefault(full, converters)
    return routes


# Each route with parameters → a function of the world (the rows of the fixture) giving its kwargs.
ROUTE_ARGS = {
    "portal:document_delete": lambda w: {"pk": w["document"].pk},
    "portal:document_download": lambda w: {"pk": w["document"].pk},
    "portal:organisation_detail": lambda w: {"pk": w["organisation"].pk},
    "portal:organisation_document_upload": lambda w: {"pk": w["organisation"].pk},
    "jobs:position": lambda w: {"pk": w["position"].pk},
    "jobs:apply": lambda w: {"pk": w["position"].pk},
    "jobs:withdraw": lambda w: {"pk": w["job_application"].pk},
    "jobs:base": lambda w: {"pk": 999999},
    "jobs:position_create": lambda w: {"org_pk": w["organisation"].pk},
    "jobs:employer_position": lambda w: {"pk": w["position"].pk},
    "jobs:position_action": lambda w: {"pk": w["position"].pk, "action": "close"},
    "jobs:employer_application": lambda w: {"pk": w["job_application"].pk},
    "apartments:station": lambda w: {"pk": w["station"].pk},
    "apartments:station_photo": lambda w: {"pk": w["station"].pk},
    "apartments:book": lambda w: {"pk": w["station"].pk},
    "apartments:alert": lambda w: {"pk": w["station"].pk},
    "apartments:cancel": lambda w: {"pk": w["stay"].pk},
    "apartments:job_push": lambda w: {"pk": w["stay"].pk},
    "apartments:follow_up": lambda w: {"pk": w["follow_up"].pk},
    "apartments:project": lambda w: {"pk": w["project"].pk},
    "apartments:project_photo": lambda w: {"pk": 999999},
    "apartments:apply": lambda w: {"pk": w["round"].pk},
    "apartments:round_results": lambda w: {"pk": w["round"].pk},
    "apartments:round_draw_input": lambda w: {"pk": w["round"].pk},
    "apartments:withdraw": lambda w: {"pk": w["housing_application"].pk},
    "apartments:offer_accept": lambda w: {"pk": 999999},
    "apartments:offer_decline": lambda w: {"pk": 999999},
    "apartments:recheck": lambda w: {"pk": 999999},
    "events:feed": lambda w: {"token": "not-a-real-token"},
    "events:event": lambda w: {"pk": w["event"].pk},
    "events:register": lambda w: {"pk": w["event"].pk},
    "events:cover": lambda w: {"pk": w["event"].pk, "size": "thumb"},
    "events:check_in": lambda w: {"pk": w["event"].pk},
    "events:ticket_qr": lambda w: {"pk": w["registration"].pk},
    "events:registration_action": lambda w: {"pk": w["registration"].pk, "action": "cancel"},
    "events:organise_event": lambda w: {"pk": w["event"].pk},
    "events:organise_registrations": lambda w: {"pk": w["event"].pk},
    "events:organise_action": lambda w: {"pk": w["event"].pk, "action": "publish"},
    "events:organise_decide": lambda w: {"pk": w["registration"].pk, "action": "confirm"},
    "subsidies:object": lambda w: {"pk": 999999},
    "subsidies:application": lambda w: {"pk": w["subsidy_application"].pk},
    "subsidies:withdraw": lambda w: {"pk": w["subsidy_application"].pk},
    "subsidies:programme": lambda w: {"code": "interview-travel"},
    "subsidies:apply": lambda w: {"code": "interview-travel"},
}

# Pages anyone may see: an anonymous 200 is right here.
PUBLIC = {
    "portal:home",
    "jobs:search",
    "jobs:position",
    "jobs:bases",
    "jobs:base",
    "apartments:stations",
    "apartments:station",
    "apartments:station_photo",
    "apartments:projects",
    "apartments:project",
    "apartments:project_photo",
    "apartments:round_results",
    "apartments:round_draw_input",
    "events:list",
    "events:calendar",
    "events:event",
    "events:cover",
    "events:feed",
    "subsidies:programmes",
    "subsidies:programme",
}

# Pages showing personal data: never a 200 to an anonymous visitor.
PRIVATE = {
    "portal:profile",
    "portal:consent",
    "portal:data_export",
    "portal:deletion_request",
    "portal:document_upload",
    "portal:document_download",
    "portal:inbox",
    "portal:inbox_preferences",
    "portal:applications",
    "jobs:my_applications",
    "jobs:employer",
    "jobs:employer_application",
    "apartments:my_stays",
    "apartments:my_housing",
    "apartments:follow_up",
    "events:mine",
    "events:ticket_qr",
    "events:organise",
    "events:organise_registrations",
    "subsidies:mine",
    "subsidies:application",
}

# graduate_a's own objects: graduate_b gets 404 (405 on a POST-only route), never 200 or 403.
FOREIGN_OBJECT_ROUTES = [
    "portal:document_download",
    "portal:document_delete",
    "jobs:withdraw",
    "apartments:cancel",
    "apartments:job_push",
    "apartments:follow_up",
    "apartments:withdraw",
    "subsidies:application",
    "subsidies:withdraw",
    "events:ticket_qr",
    "events:registration_action",
]

# Pages of one object: the owner (a key of the world) gets 200, so the 404 above is meaningful.
OWNER_ROUTES = {
    "portal:document_download": "graduate_a",
    "apartments:my_stays": "graduate_a",
    "apartments:my_housing": "housing_applicant",
    "subsidies:application": "subsidy_user",
    "subsidies:mine": "subsidy_user",
    "events:ticket_qr": "graduate_a",
    "events:mine": "graduate_a",
    "jobs:my_applications": "graduate_a",
    "portal:applications": "graduate_a",
    "jobs:employer_application": "employer_x",
    "portal:inbox": "graduate_a",
}


@pytest.fixture
def world(
    clock,
    django_capture_on_commit_callbacks,
    graduate_a,
    employer_x,
    district_1,
):
    """One object per model family owned by graduate_a / employer_x / district 1."""
    from portal.constants import DocumentKind
    from subsidies import services as subsidy_services
    from subsidies.models import Programme

    organisation = employer_x.memberships.get().organisation
    organisation.status = "verified"
    organisation.verified_at = timezone.now()
    organisation.save()
    document = housing.give_letter(graduate_a, kind=DocumentKind.DEGREE_CERTIFICATE)
    position = PositionFactory(organisation=organisation, published=True)
    job_application = JobApplicationFactory(position=position, applicant=graduate_a)
    station = StationFactory(district=district_1)
    stay = StayFactory(applicant=graduate_a, station=station)
    follow_up = FollowUpFactory(stay=StayFactory(applicant=graduate_a, station=station, checked_out=True))
    project = housing.make_project(district_1)
    round_ = housing.make_round(project)
    applicant = housing.make_housing_graduate(district=district_1)
    housing_application = housing.housing_apply(applicant, round_)
    event = EventFactory(district=district_1, published=True)
    registration = RegistrationFactory(event=event, user=graduate_a)
    subsidy_user = make_subsidy_graduate(district=district_1)
    with_interview(subsidy_user)
    with django_capture_on_commit_callbacks(execute=True):
        subsidy_application = subsidy_services.subsidy_application_create(
            programme=Programme.objects.get(code="interview-travel"), applicant=subsidy_user
        )
    notification = NotificationFactory(user=graduate_a)
    owners = {"graduate_a": graduate_a, "employer_x": employer_x}
    OrganisationFactory(district=district_1)
    return {
        "organisation": organisation,
        "document": document,
        "position": position,
        "job_application": job_application,
        "station": station,
        "stay": stay,
        "follow_up": follow_up,
        "project": project,
        "round": round_,
        "housing_applicant": applicant,
        "housing_application": housing_application,
        "event": event,
        "registration": registration,
        "subsidy_user": subsidy_user,
        "subsidy_application": subsidy_application,
        "notification": notification,
        "owners": {**owners, "housing_applicant": applicant, "subsidy_user": subsidy_user},
    }


def _url(name: str, converters: dict, world) -> str:
    kwargs = ROUTE_ARGS[name](world) if converters else {}
    return reverse(name, kwargs=kwargs)


def _login(client, request, role: str):
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    return client


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302) and "/accounts/login" in response.get("Location", "")


def test_the_matrix_finds_the_routes():
    routes = all_routes()
    assert "portal:home" in routes
    assert "jobs:position" in routes
    assert not any(name.startswith("admin:") for name in routes)
    assert not any(":account_" in name or name.startswith("account_") for name in routes)


def test_every_route_with_parameters_is_in_the_matrix():
    missing = sorted(name for name, conv in all_routes().items() if conv and name not in ROUTE_ARGS)
    assert not missing, f"new route missing from the matrix (add it to ROUTE_ARGS): {missing}"


def test_the_matrix_lists_no_stale_route():
    stale = sorted(set(ROUTE_ARGS) - set(all_routes()))
    assert not stale, f"ROUTE_ARGS names routes that no longer exist: {stale}"


def _check(role: str, name: str, response, world_owner_is_a: bool = True) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"{role} GET {name}: {status}"
    if role == "anonymous":
        if name in PRIVATE and status == 200:
            return f"anonymous GET {name}: 200 on a private page"
        if name not in PUBLIC and status == 200:
            return f"anonymous GET {name}: 200 on a non-public page"
        if name in PUBLIC and status not in (200, 404):
            return f"anonymous GET {name}: {status} on a public page"
        if status in (301, 302) and name not in PUBLIC and not _is_login_redirect(response):
            return f"anonymous GET {name}: redirect to {response.get('Location')} (not the login)"
    if role == "graduate_b" and name in FOREIGN_OBJECT_ROUTES and status not in (404, 405):
        return f"graduate_b GET {name} of graduate_a: {status} (expected 404, or 405 on a POST-only route)"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_every_route_as_every_role(client, request, world, role):
    _login(client, request, role)
    problems = []
    requests = 0
    for name, converters in sorted(all_routes().items()):
        url = _url(name, converters, world)
        response = client.get(url)
        requests += 1
        problem = _check(role, name, response)
        if problem:
            problems.append(f"{problem} [{url}]")
    assert requests > 40
    assert not problems, "\n".join(problems)


# employer_y asking for employer_x's objects: 404 (405 on a POST-only route), never 200 or 403.
FOREIGN_EMPLOYER_ROUTES = [
    "jobs:employer_position",
    "jobs:employer_application",
    "jobs:position_action",
    "jobs:position_create",
    "portal:organisation_document_upload",
]


@pytest.mark.parametrize("name", FOREIGN_EMPLOYER_ROUTES)
def test_employer_y_gets_404_on_employer_xs_objects(client, employer_y, world, name):
    client.force_login(employer_y)
    response = client.get(_url(name, all_routes()[name], world))
    assert response.status_code in (404, 405), response.status_code


@pytest.mark.parametrize("name", FOREIGN_OBJECT_ROUTES)
def test_graduate_b_gets_404_on_graduate_as_objects(client, graduate_b, world, name):
    client.force_login(graduate_b)
    response = client.get(_url(name, all_routes()[name], world))
    assert response.status_code in (404, 405), response.status_code


# --- the API, from its OpenAPI schema ----------------------------------------------------------

# The public catalogues of the API (an anonymous 200 is right there).
PUBLIC_API = {
    "/api/v1/apartment-projects/",
    "/api/v1/events/",
    "/api/v1/positions/",
    "/api/v1/stations/",
    "/api/v1/subsidy-programmes/",
}


def api_paths(client) -> list[str]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    return sorted(path for path, ops in schema["paths"].items() if "{" not in path and "get" in ops)


@pytest.mark.parametrize("role", ROLES)
def test_every_api_path_as_every_role(client, request, world, role):
    paths = api_paths(client)
    assert paths
    _login(client, request, role)
    problems = []
    for path in paths:
        response = client.get(path)
        status = response.status_code
        if status >= 500:
            problems.append(f"{role} GET {path}: {status}")
        elif role == "anonymous" and path not in PUBLIC_API and status not in (401, 403):
            problems.append(f"anonymous GET {path}: {status} (expected 401/403)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", sorted(OWNER_ROUTES))
def test_the_owner_sees_the_private_page(client, world, name):
    client.force_login(world["owners"][OWNER_ROUTES[name]])
    response = client.get(_url(name, all_routes()[name], world))
    assert response.status_code == 200, response.status_code
