"""Load shedding: over capacity, answer "busy, try again" at once instead of letting a
request wait until something times out (docs/adr/0010-load-shedding.md).

Two bounds, both answering 503 with ``Retry-After`` (a small page in the visitor's language,
or ``{"detail": ...}`` for the API):

* **Requests in flight per process.** gunicorn's threaded workers hand every accepted
  connection to a thread pool whose queue has no bound: at an event opening, hundreds of
  requests would wait there, invisible to Django, until the client gave up. Running more
  threads than the portal can usefully serve and admitting at most
  ``LOADSHED_MAX_IN_FLIGHT`` of them into the application keeps that queue short; a request
  that finds no free place within ``LOADSHED_QUEUE_TIMEOUT`` seconds, or finds
  ``LOADSHED_MAX_WAITING`` requests already waiting, is answered at once, before it reads the
  session or touches the database.
* **Waits inside PostgreSQL.** While a request is served, its database session has a
  ``lock_timeout`` (``LOADSHED_LOCK_TIMEOUT``, e.g. a queue on an event's row lock behind a
  slow organiser's transaction) and a ``statement_timeout`` (``LOADSHED_STATEMENT_TIMEOUT``,
  below gunicorn's worker timeout, so a runaway query fails the request rather than getting
  the whole worker killed). Either error reaching the view answers the same 503 instead of
  a server error. Only requests get these limits: Celery tasks, management commands and
  tests calling services directly keep PostgreSQL's defaults.

A bound of 0 switches the part off. ``/healthz`` is never shed: a busy portal is not a dead
one, and the load balancer must not take it out of service for being busy.
"""

from __future__ import annotations

import logging
import random
import threading

from django.conf import settings
from django.db import OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

EXEMPT_PREFIXES = ("/healthz", "/static/")
# SQLSTATEs of a wait cut short by the limits above: lock_not_available, query_canceled.
TIMEOUT_SQLSTATES = {"55P03", "57014"}


def is_api_request(request: HttpRequest) -> bool:
    """API clients get JSON: the API's paths, or a client that asks for JSON and not HTML."""
    if request.path_info.startswith("/api/"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def is_database_timeout(exc: BaseException) -> bool:
    """A lock wait or a statement stopped by ``lock_timeout``/``statement_timeout``."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    code = getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)
    return code in TIMEOUT_SQLSTATES


def retry_after_seconds() -> int:
    """``LOADSHED_RETRY_AFTER`` seconds or up to twice as many: clients turned away in the
    same second should not all come back in the same second."""
    base = max(1, int(settings.LOADSHED_RETRY_AFTER))
    return random.randint(base, 2 * base)


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 "busy, try again in a few seconds", in the visitor's language, without touching
    the session or the database (the point is to be cheap when the portal is overloaded)."""
    retry_after = retry_after_seconds()
    language = translation.get_language_from_request(request)
    with translation.override(language):
        if is_api_request(request):
            response = JsonResponse(
                {"detail": _("The portal is very busy right now. Please try again in a few seconds.")}, status=503
            )
        else:
            html = render_to_string(
                "503.html",
                {
                    "retry_after": retry_after,
                    # A browser reloads a page it only looked at; a form it sent is never re-sent.
                    "reload": request.method in ("GET", "HEAD"),
                    "language": translation.get_language(),
                },
            )
            response = HttpResponse(html, status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    # Not one "Service Unavailable" error line per refused request at a peak (django.request).
    response._has_been_logged = True
    response["Vary"] = "Accept-Language, Cookie"
    return response


class LoadShedMiddleware:
    """Admit at most ``LOADSHED_MAX_IN_FLIGHT`` requests per process into the application,
    bound the database waits of those admitted, and answer 503 for the rest (module
    docstring). Place it early: a refused request must cost next to nothing."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = int(settings.LOADSHED_MAX_IN_FLIGHT)
        # One middleware instance per process (per WSGI handler): the bound is per process.
        self.slots = threading.BoundedSemaphore(self.limit) if self.limit > 0 else None
        self.queue_timeout = max(0.0, float(settings.LOADSHED_QUEUE_TIMEOUT))
        # A thread waiting for a place is a thread not answering anyone: past this many
        # waiters, requests are refused at once, so gunicorn's queue in front of us drains.
        self.max_waiting = max(0, int(settings.LOADSHED_MAX_WAITING))
        self.waiting = 0
        self.waiting_lock = threading.Lock()

    def __call__(self, request):
        if self.slots is None or request.path_info.startswith(EXEMPT_PREFIXES):
            return self._serve(request)
        if not self._admit():
            logger.info("503 for %s %s: %d requests in flight", request.method, request.path_info, self.limit)
            return busy_response(request)
        try:
            return self._serve(request)
        finally:
            self.slots.release()

    def _admit(self) -> bool:
        """A place at once, or within the queue timeout if few enough already wait."""
        if self.slots.acquire(blocking=False):
            return True
        with self.waiting_lock:
            if self.waiting >= self.max_waiting or not self.queue_timeout:
                return False
            self.waiting += 1
        try:
            return self.slots.acquire(timeout=self.queue_timeout)
        finally:
            with self.waiting_lock:
                self.waiting -= 1

    def _serve(self, request):
        limited = self._limit_database_waits()
        try:
            return self.get_response(request)
        finally:
            if limited:
                self._reset_database_waits()

    def process_exception(self, request, exception):
        if is_database_timeout(exception):
            logger.warning("503 for %s %s: %s", request.method, request.path_info, str(exception).strip())
            return busy_response(request)
        return None

    # --- the session limits, for the time of one request ---------------------------------------

    @staticmethod
    def _timeouts() -> tuple[int, int]:
        return (
            int(float(settings.LOADSHED_LOCK_TIMEOUT) * 1000),
            int(float(settings.LOADSHED_STATEMENT_TIMEOUT) * 1000),
        )

    def _limit_database_waits(self) -> bool:
        lock_ms, statement_ms = self._timeouts()
        if connection.vendor != "postgresql" or not (lock_ms or statement_ms):
            return False
        try:
            connection.ensure_connection()
            # The raw cursor: one round trip, not counted as one of the view's queries.
            with connection.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                    [f"{lock_ms}ms", f"{statement_ms}ms"],
                )
        except Exception:  # Django's or the driver's error: the raw cursor is the driver's
            # The view meets the same problem and answers for it (/healthz reports it).
            logger.debug("Could not set the database timeouts of this request.", exc_info=True)
            return False
        return True

    @staticmethod
    def _reset_database_waits() -> None:
        # Back to the server's defaults: the thread's connection outlives the request.
        try:
            if connection.connection is not None:
                with connection.connection.cursor() as cursor:
                    cursor.execute("RESET lock_timeout; RESET statement_timeout")
        except Exception:  # the driver's error (raw cursor); the connection is checked at the next request
            logger.debug("Could not reset the database timeouts.", exc_info=True)
