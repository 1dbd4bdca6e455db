"""Property-based fuzzing of the whole API with schemathesis (issue #8): every operation of
the OpenAPI schema the portal serves at /api/schema/, called in-process through the Django
WSGI application by a graduate with a complete profile and by an employer member of a
verified organisation, with valid and invalid input. No answer may be a server error, and
every documented answer must match its documented schema.

Design, and why:

- The schema is loaded from /api/schema/ through the WSGI application at import (generating
  it reads no database row), so pytest lists one test per operation and role and a failure
  names its operation (136 tests for 68 operations). Bounded and reproducible: a fixed
  seed, no example database, ``MAX_EXAMPLES`` generated cases (valid and invalid) per
  operation and role. Schemathesis' "coverage" phase (every boundary value of every field,
  up to ~370 cases for one operation, ~10 minutes for the file) is off in CI; run it with
  ``FUZZ_COVERAGE=1`` (and more cases with ``FUZZ_EXAMPLES=40``) after changing the API.
- Real data: ``fuzz_world`` builds, through the factories and services, a row in every app
  (positions and applications with an interview, a hired trainee with a traineeship claim,
  event registrations confirmed, waitlisted and offered, station stays with a follow-up, a
  housing application and one with a unit offered, a subsidy application, notifications)
  for the two callers, plus rows of strangers (another employer, another graduate) that
  must answer 404. ``_with_real_ids`` points about half of the generated ids (path, query
  and body) at those rows, so detail and action endpoints run their services on real
  objects as well as on unknown ids. The choice depends only on the generated value, so it
  is as reproducible as the examples.
- Database state: the world is built once for the module inside a transaction that is
  rolled back at its end (pytest-django's per-test transaction nests inside it as a
  savepoint). Each example runs in its own savepoint (``transaction.atomic()``) that is
  always rolled back, so every example sees exactly the world the fixture built: a POST
  that creates or a write that changes a status does not change the next example, and a
  request that fails half-way in PostgreSQL (an aborted transaction) cannot poison the
  examples after it. The WSGI handler closes "old" database connections when a request
  starts and ends, which would throw the test's transaction away; ``_connection_kept``
  detaches that signal handler during each call, as Django's test client does.
  ``transaction.on_commit`` callbacks (notifications, Celery checks) therefore never run
  here: the services' writes are fuzzed, their background side effects are tested elsewhere.
- Rate limits: no DRF throttle class is enabled on the API (only rates are configured), and
  allauth's limits guard the account pages, not the API. The cache (which would hold
  throttle counters, and holds the job search's cached pages) is cleared before each
  example anyway, so a limit added later cannot turn the end of a run into 429s that hide
  the operations, and a cached search page cannot hide the query that would produce it.
- Checks: ``not_a_server_error`` for every case, plus the conformance of every answer to the
  schema: documented status code, content type, headers and body (``CHECKS``; the schema
  documents each operation's refusals through ``portal.api.PortalAutoSchema``). Left out,
  with the reason next to ``CHECKS``: the checks that judge whether the API accepts exactly
  what the schema allows. Addresses outside the URL patterns get the portal's JSON 404
  (``handler404``), checked like any other answer.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apartments.constants import HousingApplicationStatus, UnitState
from apartments.models import HousingApplication, HousingOffer, Unit
from jobs.constants import ApplicationStatus, PositionKind
from jobs.models import Interview
from portal.models import District, Document
from portal.wsgi import application
from subsidies import services as subsidy_services
from subsidies.models import Programme
from tests.apartments.conftest import give_letter, housing_apply, make_housing_graduate, make_project, make_round
from tests.apartments.factories import FollowUpFactory, StationFactory, StayFactory
from tests.events.factories import EventFactory, RegistrationFactory
from tests.jobs.factories import JobApplicationFactory, PositionFactory, TraineeshipBaseFactory
from tests.portal.factories import NotificationFactory, OrganisationFactory
from tests.subsidies.conftest import hire

# Generated cases per operation and role.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
# Any fixed value: the same examples on every run, locally and in CI.
SEED = 20260511

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # Not run: positive_data_acceptance expects every schema-valid request to succeed, but
    # business rules refuse valid-looking input (a position already applied for, a
    # programme whose window is closed) with a documented 400; negative_data_rejection
    # expects every schema-invalid request to fail, but the schema cannot express every
    # input the API tolerates (e.g. unknown query parameters are ignored by design).
]


CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"coverage": {"enabled": os.environ.get("FUZZ_COVERAGE") == "1"}},
    }
)

schema = schemathesis.openapi.from_wsgi(
    "/api/schema/", application, config=CONFIG, headers={"Accept": "application/vnd.oai.openapi+json"}
)


# --- the world the callers act in ---------------------------------------------------------------


@dataclass
class World:
    tokens: dict[str, str]
    # Real ids (or codes) per kind of object, the callers' own and strangers'.
    ids: dict[str, list] = field(default_factory=dict)


def build_world() -> World:
    """A graduate and an employer with a row in every app, and strangers' rows."""
    luolong = District.objects.get(code="luolong")
    jianxi = District.objects.get(code="jianxi")
    now = timezone.now()

    graduate = make_housing_graduate(district=luolong)
    stranger = make_housing_graduate(district=jianxi)
    letter = give_letter(graduate)
    org = OrganisationFactory(verified=True, district=luolong)
    employer = org.memberships.get().user
    TraineeshipBaseFactory(organisation=org)
    other_org = OrganisationFactory(verified=True, district=jianxi)

    # jobs: the graduate applied to the employer's job and is invited to an interview; a
    # trainee was hired into the employer's traineeship.
    job = PositionFactory(organisation=org, published=True)
    draft = PositionFactory(organisation=org)
    other_position = PositionFactory(organisation=other_org, published=True)
    job_app = JobApplicationFactory(position=job, applicant=graduate, status=ApplicationStatus.INTERVIEW)
    Interview.objects.create(application=job_app, starts_at=now + dt.timedelta(days=3), place="开元大道 1 号")
    trainee = hire(org, employer, kind=PositionKind.TRAINEESHIP)
    other_application = JobApplicationFactory(position=other_position, applicant=stranger)

    # subsidies: the graduate's draft interview-travel application, the employer's draft claim.
    month = timezone.localdate().replace(day=1)
    grant = subsidy_services.subsidy_application_create(
        programme=Programme.objects.get(code="interview-travel"), applicant=graduate, submit=False
    )
    claim = subsidy_services.subsidy_application_create(
        programme=Programme.objects.get(code="traineeship-living"),
        applicant=employer,
        organisation=org,
        job_application_id=trainee.pk,
        period_start=month,
        submit=False,
    )

    # events: one the graduate holds a place at (organised by the employer), one full with
    # the graduate on the waiting list, a place offered at a third.
    event = EventFactory(
        published=True,
        organiser=org,
        questions=[
            {"label": "专业", "type": "text", "required": False},
            {"label": "年级", "type": "choice", "choices": ["大四", "研三"]},
        ],
    )
    confirmed = RegistrationFactory(event=event, user=graduate, confirmed=True)
    full = EventFactory.full(waitlisted=0)
    waitlisted = RegistrationFactory(event=full, user=graduate, waitlisted=True)
    offered = RegistrationFactory(event=EventFactory(published=True), user=graduate, offered=True)
    stranger_registration = RegistrationFactory(event=event, user=stranger, confirmed=True)

    # stations: a booked stay, a finished one whose follow-up waits for an answer.
    station = StationFactory(district=luolong)
    stay = StayFactory(applicant=graduate, station=station, hold_beds=True)
    done = StayFactory(applicant=graduate, station=station, checked_out=True)
    FollowUpFactory(stay=done)
    stranger_stay = StayFactory(applicant=stranger, station=station)

    # housing: an application to an open round, and one as a draw leaves it: approved, with a
    # unit offered.
    project = make_project(luolong)
    open_round = make_round(project)
    housing = housing_apply(graduate, open_round)
    second_round = make_round(project, name="2025年第四批")
    housed = housing_apply(graduate, second_round)
    HousingApplication.objects.filter(pk=housed.pk).update(status=HousingApplicationStatus.APPROVED)
    unit = Unit.objects.filter(project=project, state=UnitState.VACANT).first()
    offer = HousingOffer.objects.create(application=housed, unit=unit, deadline=now + dt.timedelta(days=7))
    Unit.objects.filter(pk=unit.pk).update(state=UnitState.OFFERED)
    stranger_housing = housing_apply(stranger, open_round)

    notifications = [NotificationFactory(user=graduate).pk, NotificationFactory(user=employer).pk]

    return World(
        tokens={
            "graduate": Token.objects.create(user=graduate).key,
            "employer": Token.objects.create(user=employer).key,
        },
        ids={
            "position": [job.pk, draft.pk, trainee.position_id, other_position.pk],
            "job_application": [job_app.pk, trainee.pk, other_application.pk],
            "organisation": [org.pk, other_org.pk],
            "subsidy_application": [grant.pk, claim.pk],
            "programme": list(Programme.objects.order_by("pk").values_list("code", flat=True)),
            "event": [event.pk, full.pk, offered.event_id],
            "registration": [confirmed.pk, waitlisted.pk, offered.pk, stranger_registration.pk],
            "station": [station.pk],
            "stay": [stay.pk, done.pk, stranger_stay.pk],
            "project": [project.pk],
            "round": [open_round.pk, second_round.pk],
            "unit_type": list(project.unit_types.values_list("pk", flat=True)),
            "housing_application": [housing.pk, housed.pk, stranger_housing.pk],
            "offer": [offer.pk],
            "notification": notifications,
            "document": list(Document.objects.filter(owner=graduate).values_list("pk", flat=True)) + [letter.pk],
            "district": ["luolong", "jianxi"],
        },
    )


# Which kind of object an operation's path parameter names, by the path's first words.
PATH_KINDS = {
    "/api/v1/positions/": "position",
    "/api/v1/employer/positions/": "position",
    "/api/v1/job-applications/": "job_application",
    "/api/v1/employer/applications/": "job_application",
    "/api/v1/organisations/": "organisation",
    "/api/v1/subsidy-applications/": "subsidy_application",
    "/api/v1/traineeship-claims/": "subsidy_application",
    "/api/v1/subsidy-programmes/": "programme",
    "/api/v1/events/": "event",
    "/api/v1/event-registrations/": "registration",
    "/api/v1/stations/": "station",
    "/api/v1/station-stays/": "stay",
    "/api/v1/apartment-projects/": "project",
    "/api/v1/housing-applications/": "housing_application",
    "/api/v1/housing-offers/": "offer",
    "/api/v1/notifications/": "notification",
}
# Which kind of object a query parameter or body field names.
FIELD_KINDS = {
    "organisation": "organisation",
    "organisation_id": "organisation",
    "job_application": "job_application",
    "position": "position",
    "programme": "programme",
    "station": "station",
    "round": "round",
    "unit_types": "unit_type",
    "documents": "document",
    "shared_documents": "document",
    "invitation_document": "document",
    "ids": "notification",
    "district": "district",
}


def _real(value, kind: str, world: World):
    """A real id (or code) for about half of the generated values, chosen by the value."""
    choices = world.ids.get(kind) or []
    if not choices or isinstance(value, bool):
        return value
    if isinstance(value, int) and value % 2 == 0:
        return choices[(value // 2) % len(choices)]
    if isinstance(value, str) and len(value) % 2 == 0:
        return choices[len(value) // 2 % len(choices)]
    return value


def _with_real_ids(case, world: World) -> None:
    for name, value in (case.path_parameters or {}).items():
        kind = next((k for prefix, k in PATH_KINDS.items() if case.path.startswith(prefix)), None)
        if kind and name in ("id", "code"):
            case.path_parameters[name] = _real(value, kind, world)
    for container in (case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name, kind in FIELD_KINDS.items():
            value = container.get(name)
            if isinstance(value, list):
                container[name] = [_real(item, kind, world) for item in value]
            elif value is not None:
                container[name] = _real(value, kind, world)


@contextmanager
def _connection_kept() -> Iterator[None]:
    """Keep the connection (and its transaction) across requests through the WSGI handler,
    which closes "old" connections when a request starts and when it ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker) -> Iterator[World]:
    """The world, built once for the module inside a transaction that is rolled back at the
    end: every example runs (and is rolled back) in a savepoint of it."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def _exercise(case, world: World, role: str) -> None:
    _with_real_ids(case, world)
    cache.clear()
    with transaction.atomic(), _connection_kept():
        response = case.call(headers={"Authorization": f"Token {world.tokens[role]}"})
        transaction.set_rollback(True)
    # An id the URL pattern does not take ("-1.1", "abc") never reaches a view: the portal's
    # 404 handler answers for it, with the same JSON as the API's own 404 (portal.views).
    case.validate_response(response, checks=CHECKS)


FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    # The suite's autouse fixtures (outboxes, language) are function-scoped; what an example
    # changes is reset per example instead (savepoint, cache), see the module docstring.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.postgres
@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_graduate(case, fuzz_world):
    _exercise(case, fuzz_world, "graduate")


@pytest.mark.postgres
@pytest.mark.django_db
@schema.parametrize()
@FUZZ_SETTINGS
def test_api_as_employer(case, fuzz_world):
    _exercise(case, fuzz_world, "employer")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_world_reaches_each_caller_s_own_rows(fuzz_world, client):
    """The fuzzing is only as deep as its world: both tokens sign in, the callers' real ids
    reach their rows (200) and strangers' rows stay hidden (404)."""
    ids = fuzz_world.ids

    def status(role: str, path: str) -> int:
        return client.get(path, HTTP_AUTHORIZATION=f"Token {fuzz_world.tokens[role]}").status_code

    assert status("graduate", f"/api/v1/job-applications/{ids['job_application'][0]}/") == 200
    assert status("graduate", f"/api/v1/subsidy-applications/{ids['subsidy_application'][0]}/") == 200
    assert status("graduate", f"/api/v1/event-registrations/{ids['registration'][0]}/") == 200
    assert status("graduate", f"/api/v1/station-stays/{ids['stay'][0]}/") == 200
    assert status("graduate", f"/api/v1/housing-applications/{ids['housing_application'][0]}/") == 200
    assert status("graduate", f"/api/v1/housing-offers/{ids['offer'][0]}/") == 200
    assert status("graduate", f"/api/v1/notifications/{ids['notification'][0]}/") == 200
    assert status("employer", f"/api/v1/employer/positions/{ids['position'][1]}/") == 200
    assert status("employer", f"/api/v1/employer/applications/{ids['job_application'][0]}/") == 200
    assert status("employer", f"/api/v1/traineeship-claims/{ids['subsidy_application'][1]}/") == 200
    assert status("employer", f"/api/v1/organisations/{ids['organisation'][0]}/") == 200
    # Strangers' rows: another graduate's stay and registration, another employer's organisation.
    assert status("graduate", f"/api/v1/station-stays/{ids['stay'][2]}/") == 404
    assert status("graduate", f"/api/v1/event-registrations/{ids['registration'][3]}/") == 404
    assert status("employer", f"/api/v1/organisations/{ids['organisation'][1]}/") == 404
    assert status("employer", f"/api/v1/employer/applications/{ids['job_application'][2]}/") == 404
