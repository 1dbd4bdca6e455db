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
