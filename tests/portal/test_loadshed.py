"""Load shedding (portal/loadshed.py, ADR 0010): over the bound of requests in flight a
visitor gets a quick "busy, try again" (503 with Retry-After) in their language, the API
gets JSON, requests under the bound pass, and a lock wait cut short by PostgreSQL's
lock_timeout answers the same 503 instead of a server error."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from portal.loadshed import LoadShedMiddleware, is_database_timeout

# The bound and the queue are what these tests vary; the database limits have their own test.
NO_DB_LIMITS = {"LOADSHED_LOCK_TIMEOUT": 0, "LOADSHED_STATEMENT_TIMEOUT": 0, "LOADSHED_RETRY_AFTER": 2}


class HeldView:
    """A view that stays in flight until released, so a test can fill the bound."""

    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def __call__(self, request):
        self.calls += 1
        if request.path_info == "/held/":
            self.entered.set()
            assert self.release.wait(10)
        return HttpResponse("ok")


def _hold_one(middleware: LoadShedMiddleware, view: HeldView) -> threading.Thread:
    thread = threading.Thread(target=middleware, args=(RequestFactory().get("/held/"),))
    thread.start()
    assert view.entered.wait(5)
    return thread


@pytest.fixture
def full():
    """A middleware with room for one request, and that one request in flight."""
    view = HeldView()
    with override_settings(LOADSHED_MAX_IN_FLIGHT=1, LOADSHED_QUEUE_TIMEOUT=0, **NO_DB_LIMITS):
        middleware = LoadShedMiddleware(view)
        thread = _hold_one(middleware, view)
        yield middleware, view
        view.release.set()
        thread.join(5)


def _retry_after(response) -> int:
    value = int(response["Retry-After"])
    assert 2 <= value <= 4  # LOADSHED_RETRY_AFTER, spread up to twice as long
    return value


def test_over_the_bound_a_page_answers_503_in_chinese_with_retry_after(full):
    middleware, view = full

    response = middleware(RequestFactory().get("/events/1/"))

    assert response.status_code == 503
    seconds = _retry_after(response)
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html  # the default language when the visitor states none
    assert 'id="busy"' in html
    # A page only looked at reloads by itself when the visitor may try again.
    assert f'<meta http-equiv="refresh" content="{seconds}">' in html
    assert view.calls == 1  # the refused request never reached the application


def test_the_busy_page_speaks_the_visitors_language_and_never_resends_a_form(full):
    middleware, _view = full

    response = middleware(RequestFactory().post("/events/1/register/", HTTP_ACCEPT_LANGUAGE="en"))

    assert response.status_code == 503
    _retry_after(response)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "http-equiv" not in html  # reloading would not send the form again


def test_api_requests_get_json(full):
    middleware, _view = full

    response = middleware(RequestFactory().get("/api/v1/events/"))

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    _retry_after(response)
    body = json.loads(response.content)
    assert set(body) == {"detail"} and body["detail"]


def test_the_health_check_is_never_shed(full):
    middleware, view = full

    response = middleware(RequestFactory().get("/healthz"))

    assert response.status_code == 200
    assert view.calls == 2


def test_requests_under_the_bound_pass():
    view = HeldView()
    with override_settings(LOADSHED_MAX_IN_FLIGHT=2, LOADSHED_QUEUE_TIMEOUT=0, **NO_DB_LIMITS):
        middleware = LoadShedMiddleware(view)
        thread = _hold_one(middleware, view)
        try:
            response = middleware(RequestFactory().get("/events/"))
        finally:
            view.release.set()
            thread.join(5)
        after = middleware(RequestFactory().get("/events/"))

    assert response.status_code == 200 and "Retry-After" not in response
    assert after.status_code == 200
    assert view.calls == 3


def test_a_request_waits_for_a_place_up_to_the_queue_timeout():
    view = HeldView()
    with override_settings(LOADSHED_MAX_IN_FLIGHT=1, LOADSHED_QUEUE_TIMEOUT=5, **NO_DB_LIMITS):
        middleware = LoadShedMiddleware(view)
        thread = _hold_one(middleware, view)
        threading.Timer(0.1, view.release.set).start()
        response = middleware(RequestFactory().get("/events/"))
        thread.join(5)

    assert response.status_code == 200


def test_past_the_waiting_bound_a_request_is_refused_at_once():
    """Threads waiting for a place answer nobody: once LOADSHED_MAX_WAITING wait, the next
    request is refused without waiting, and the waiter still gets its place."""
    view = HeldView()
    with override_settings(LOADSHED_MAX_IN_FLIGHT=1, LOADSHED_QUEUE_TIMEOUT=5, LOADSHED_MAX_WAITING=1, **NO_DB_LIMITS):
        middleware = LoadShedMiddleware(view)
        held = _hold_one(middleware, view)
        waiter_answer = {}
        waiter = threading.Thread(target=lambda: waiter_answer.update(r=middleware(RequestFactory().get("/a/"))))
        waiter.start()
        deadline = time.monotonic() + 5
        while middleware.waiting < 1 and time.monotonic() < deadline:
            time.sleep(0.01)

        started = time.monotonic()
        refused = middleware(RequestFactory().get("/b/"))
        refused_in = time.monotonic() - started
        view.release.set()
        held.join(5)
        waiter.join(5)

    assert refused.status_code == 503
    assert refused_in < 1  # not the 5 s queue timeout
    assert waiter_answer["r"].status_code == 200


def test_a_place_is_given_back_when_the_application_raises():
    def failing(request):
        raise RuntimeError("boom")

    with override_settings(LOADSHED_MAX_IN_FLIGHT=1, LOADSHED_QUEUE_TIMEOUT=0, **NO_DB_LIMITS):
        middleware = LoadShedMiddleware(failing)
        for _ in range(2):
            with pytest.raises(RuntimeError):
                middleware(RequestFactory().get("/events/"))


def test_a_zero_bound_switches_shedding_off():
    view = HeldView()
    with override_settings(LOADSHED_MAX_IN_FLIGHT=0, **NO_DB_LIMITS):
        middleware = LoadShedMiddleware(view)
        thread = _hold_one(middleware, view)
        try:
            response = middleware(RequestFactory().get("/events/"))
        finally:
            view.release.set()
            thread.join(5)

    assert response.status_code == 200


@pytest.mark.django_db
def test_the_middleware_is_installed_and_pages_pass(client):
    response = client.get(reverse("portal:home"))

    assert response.status_code == 200
    assert "Retry-After" not in response


def test_other_database_errors_are_not_taken_for_a_timeout():
    assert not is_database_timeout(OperationalError("server closed the connection unexpectedly"))
    assert not is_database_timeout(ValueError("no"))


# --- PostgreSQL: the limits of a request's database session -----------------------------------


def _in_thread(work):
    """Run ``work`` on a thread of its own (its own database connection) and return its result."""
    box: dict = {}

    def run():
        try:
            box["result"] = work()
        except BaseException as exc:  # re-raised in the test's thread
            box["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)
    assert not thread.is_alive()
    if "error" in box:
        raise box["error"]
    return box["result"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_registration_stuck_behind_the_event_row_lock_answers_503_not_500(district_1):
    """Connection 1 (this test) holds the event's row lock, as a slow organiser's change
    would; connection 2 (a request) waits for it at most LOADSHED_LOCK_TIMEOUT and answers
    "busy" with nothing written; its session limits are gone after the request."""
    from django.db import transaction

    from events.models import Event, Registration
    from tests.events.conftest import make_people
    from tests.events.factories import EventFactory

    event = EventFactory(published=True, district=district_1, capacity=5)
    (person,) = make_people(1, prefix="loadshed")
    client = Client(raise_request_exception=False)
    client.force_login(person)

    def register():
        response = client.post(reverse("events:register", args=[event.pk]))
        with connection.cursor() as cursor:
            cursor.execute("SHOW lock_timeout")
            left = cursor.fetchone()[0]
        return response, left

    with override_settings(LOADSHED_LOCK_TIMEOUT=0.2, LOADSHED_STATEMENT_TIMEOUT=10), transaction.atomic():
        Event.objects.select_for_update().get(pk=event.pk)
        response, lock_timeout_after = _in_thread(register)

    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 2
    assert 'id="busy"' in response.content.decode()
    assert not Registration.objects.filter(event=event).exists()
    assert lock_timeout_after == "0"  # the thread's connection is back to the server default

    # Once the lock is released the same request goes through.
    with override_settings(LOADSHED_LOCK_TIMEOUT=0.2):
        response, _left = _in_thread(register)
    assert response.status_code == 302
    assert Registration.objects.filter(event=event, user=person).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statement_stopped_by_statement_timeout_is_a_timeout():
    def slow():
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = '50ms'")
            try:
                cursor.execute("SELECT pg_sleep(2)")
            except OperationalError as exc:
                return exc
        return None

    error = _in_thread(slow)

    assert error is not None and is_database_timeout(error)


def test_the_busy_page_has_no_text_outside_translation():
    """Every sentence of the page goes through gettext (the lead translates them)."""
    from pathlib import Path

    from django.conf import settings

    html = Path(settings.BASE_DIR, "templates", "503.html").read_text()
    for pattern in (
        r"{% comment %}.*?{% endcomment %}",
        r"{% blocktranslate.*?{% endblocktranslate %}",
        r"<style>.*?</style>",
        r"{%.*?%}|{{.*?}}|<[^>]+>",
    ):
        html = re.sub(pattern, "", html, flags=re.S)
    assert not re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", html)
