"""Browser fixtures: Playwright (sync API) driving the system Chromium against pytest-django's
``live_server``.

Playwright's download servers are not used: the browser is the distribution's
``/usr/bin/chromium``. Every step is bounded (15 s) so a broken page fails the test instead of
hanging the suite. Screenshots go to ``test-artifacts/e2e/`` (gitignored); a failing test also
leaves a screenshot and the page's HTML there."""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# the ORM calls that live_server's fixtures and the test's assertions make from that thread.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("PLAYWRIGHT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEP_TIMEOUT_MS = 15_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def chromium(transactional_db, live_server):
    """One browser per test, started after the test database is set up and stopped before it
    is torn down.

    While Playwright's sync API runs, code in the test thread sees another ``contextvars``
    context, so ``django.db.connections`` hands out other connection objects: a browser kept
    for the whole session would make pytest-django's setup of later tests miss the serialized
    database contents (``serialized_rollback`` would silently restore nothing). Hence the
    function scope, and the database fixtures requested first."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
            # The connections the test opened belong to Playwright's context; close them
            # here, or they would stay open and block dropping the test database.
            connections.close_all()


@pytest.fixture
def page(request, chromium, artifacts_dir):
    """A fresh browser context per test, in Chinese (the portal's default language: the
    browser must not ask for English through Accept-Language)."""
    context = chromium.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=DESKTOP,
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        name = _slug(request.node.name)
        try:
            page.screenshot(path=artifacts_dir / f"FAILED-{name}.png", full_page=True)
            (artifacts_dir / f"FAILED-{name}.html").write_text(page.content(), encoding="utf-8")
        except Exception:  # the page may be gone; the test's own error is what matters
            pass
    context.close()


@pytest.fixture
def snap(page, artifacts_dir):
    """``snap("01-signup")`` saves full-page screenshots of the current page at phone (390 px)
    and desktop (1280 px) width, then restores the desktop viewport."""

    def take(name: str, *, widths: tuple[dict, ...] = (PHONE, DESKTOP)) -> list[Path]:
        paths = []
        for size in widths:
            page.set_viewport_size(size)
            path = artifacts_dir / f"{name}-{size['width']}.png"
            page.screenshot(path=path, full_page=True, animations="disabled")
            paths.append(path)
        page.set_viewport_size(DESKTOP)
        return paths

    return take


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


@pytest.fixture
def luolong(db):
    """洛龙区, the district the journeys happen in (loaded by the data migrations)."""
    from portal.models import District

    return District.objects.get(code="luolong")


def youth_station(district, name: str = "洛龙青年驿站"):
    """A youth station with three beds, as district staff set one up."""
    from apartments.constants import StationKind
    from apartments.models import Station

    return Station.objects.create(
        district=district,
        name=name,
        kind=StationKind.YOUTH_APARTMENT,
        address="洛阳市洛龙区开元大道 8 号",
        beds=3,
        contact_name="王老师",
        contact_phone="0379-65000000",
        description="为来洛求职的高校毕业生提供免费住宿，拎包即住。",
        house_rules="凭身份证入住；22:30 前返回。",
    )


@pytest.fixture
def station(luolong):
    return youth_station(luolong)


@pytest.fixture
def booking_today_allowed(luolong):
    """Bookings for today are allowed whatever the hour the test runs at.

    The rule (apartments/rules) wants the booking made at least ``stations-booking-min-hours``
    (2 by default) hours before 14:00 on the check-in day: after 12:00 a booking for today would
    be refused, and staff can check a guest in only on a night of the stay. A newer row of the
    parameter for 洛龙区, in force from today, sets it to -12 hours: 14:00 minus -12 hours is
    02:00 the next morning, later than any moment of today (0 would still fail after 14:00).
    A district row wins over the city-wide one whatever its date, so no seeded row can shadow it."""
    from decimal import Decimal

    from django.utils import timezone

    from apartments import constants as station_constants
    from portal.models import Parameter

    return Parameter.objects.create(
        key=station_constants.BOOKING_MIN_HOURS,
        value=Decimal("-12"),
        effective_from=timezone.localdate(),
        district=luolong,
        note="e2e: booking for today allowed at any hour",
    )
