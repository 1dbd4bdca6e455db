"""Accessibility of the key pages, checked by axe-core in a real browser (issue 8, "Proof as a
whole"): no serious or critical violation of WCAG 2.1 A/AA on any of them, at desktop (1280 px)
and phone (390 px) width; a skip link to the main content that works from the keyboard, a
visible focus, and ``<html lang>`` that follows the active language.

axe-core is the copy shipped inside the ``axe-playwright-python`` package (``axe.min.js``),
injected into each page: no CDN. Every request the browsers make is recorded, and the scan
fails if one leaves the live server.

The pages are those a graduate, an employer and district staff meet on the portal's main paths,
with real data made through the services and factories before the browsers start: the home
page, sign-in, sign-up and the graduate profile in their error states (the errors must be tied
to their fields by ``aria-invalid`` and ``aria-describedby``), the job search with results, a
position, my applications, the youth stations and a station's booking page, a talent-apartment
project, a subsidy programme with its criteria checked for the graduate, the events list, the
month view and an event, the notifications inbox, the employer's organisation and positions,
and the staff admin (index, a changelist, a change form and a decision page).

Each page is loaded once at 1280 px and checked, then the viewport narrows to 390 px (the
layout's media queries apply without a reload) and it is checked again; at 390 px the page must
not scroll sideways (WCAG 1.4.10 reflow, which axe does not test), and a full-page screenshot
goes to ``test-artifacts/e2e/a11y-<page>-390.png``. axe runs with the WCAG 2.1 A/AA tags and its
best practices: moderate and minor findings, and best-practice ones, do not fail the test; they
are printed and written to ``test-artifacts/e2e/axe-report.json`` with the blocking ones."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apartments.models import Station
from events.constants import EventKind
from jobs.models import Position
from portal import services as portal_services
from portal.constants import DocumentKind
from portal.models import Organisation
from tests.apartments.conftest import make_project, make_round
from tests.e2e.browser import interview_through_the_services, new_page, png, sign_in, verified_email
from tests.e2e.conftest import DESKTOP, PHONE, youth_station
from tests.events.factories import EventFactory
from tests.jobs.factories import PositionFactory
from tests.portal.factories import DistrictStaffFactory, NotificationFactory, ProfileFactory

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters, the programmes), which the flush after
# the test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WCAG_21_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
# The version in the bundled axe.min.js's banner ("/*! axe v4.12.1"): what runs is that copy.
AXE_VERSION = re.match(r"/\*! axe v(\S+)", AXE_SCRIPT).group(1)

GRADUATE_EMAIL = "sun.xiaochuan@example.com"
GRADUATE_PASSWORD = "Luoyang-2026-graduate"
EMPLOYER_EMAIL = "hr.zhongzhou@example.com"
EMPLOYER_PASSWORD = "Luoyang-2026-employer"
STAFF_EMAIL = "luolong.staff@example.com"
STAFF_PASSWORD = "Luoyang-2026-district"
EMPLOYER_NAME = "中州精密轴承有限公司"
POSITION_TITLE = "精密轴承装配工程师"
PROGRAMME_CODE = "interview-travel"


# --- the data the pages show -------------------------------------------------------------------


@dataclass
class World:
    graduate: object
    employer: object
    staff: object
    organisation: Organisation
    position: Position
    application: object
    pending_position: Position
    station: Station
    project: object
    event: object
    urls: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def world(luolong) -> World:
    """A graduate from 郑州 with a complete profile and the degree certificate, who applied to a
    verified employer's published position and was invited to an interview (so 我的申请, the
    inbox and the subsidy criteria have something to show); another organisation's position
    waiting for review (the staff decision page); a youth station, a talent-apartment project
    with an open round, and a published event."""
    profile = ProfileFactory(
        complete=True,
        real_name="孙晓川",
        district=luolong,
        graduation_date=timezone.localdate() - dt.timedelta(days=180),
        hukou_province="河南省",
        hukou_city="郑州市",
        works_in_luoyang=True,
    )
    graduate = verified_email(profile.user, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    portal_services.document_upload(owner=graduate, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    invitation = interview_through_the_services(
        graduate,
        luolong,
        employer_name=EMPLOYER_NAME,
        position={
            "title": POSITION_TITLE,
            "description": "负责精密轴承装配工艺与质量改进。",
            "headcount": 2,
            "salary_min": 6000,
            "salary_max": 9000,
        },
        on=timezone.localdate() + dt.timedelta(days=3),
    )
    position = invitation.application.position
    organisation = position.organisation
    employer = verified_email(organisation.memberships.get().user, EMPLOYER_EMAIL, EMPLOYER_PASSWORD)
    NotificationFactory(user=graduate, title="欢迎来到洛阳青年人才服务平台", body="请完善个人资料。")
    staff = verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)
    pending_position = PositionFactory(pending=True, title="数控机床操作员", organisation__district=luolong)
    station = youth_station(luolong)
    project = make_project(luolong, name="炎黄科技园青年人才公寓")
    make_round(project, name="2026年第一批")
    event = EventFactory(published=True, kind=EventKind.SALON, title="青年人才读书夜")
    return World(
        graduate=graduate,
        employer=employer,
        staff=staff,
        organisation=organisation,
        position=position,
        application=invitation.application,
        pending_position=pending_position,
        station=station,
        project=project,
        event=event,
    )


# --- axe ---------------------------------------------------------------------------------------


@dataclass
class Finding:
    page: str
    width: int
    rule: str
    impact: str
    wcag: bool
    help: str
    url: str
    targets: list[str]

    @property
    def blocking(self) -> bool:
        """Serious or critical, and a WCAG 2.1 A/AA criterion (not only axe's best practice)."""
        return self.wcag and self.impact in BLOCKING

    def line(self) -> str:
        shown = ", ".join(self.targets[:5]) + (f" (+{len(self.targets) - 5} more)" if len(self.targets) > 5 else "")
        kind = "" if self.wcag else " best-practice"
        return f"[{self.impact}{kind}] {self.page} @{self.width}px: {self.rule} — {self.help} — {shown} — {self.url}"


class Scanner:
    """Runs axe on the current page of a browser context, at both widths, and keeps what it
    finds.

    One run per width with the WCAG 2.1 A/AA tags plus axe's best practices: only the WCAG
    findings can fail the test, the best practices are recorded beside them."""

    def __init__(self, artifacts_dir) -> None:
        self.artifacts_dir = artifacts_dir
        self.findings: list[Finding] = []
        self.pages: list[str] = []
        self.overflow: dict[str, int] = {}

    def check(self, page: Page, name: str) -> None:
        # A page that failed to render would pass axe trivially: it must have its main landmark.
        expect(page.locator("main, #content, [role=main]").first).to_be_attached()
        self.pages.append(name)
        options = {
            "runOnly": {"type": "tag", "values": [*WCAG_21_A_AA, "best-practice"]},
            "resultTypes": ["violations"],
        }
        # The package's bundled axe-core, injected once per page load and run at each width.
        page.evaluate(AXE_SCRIPT)
        assert page.evaluate("axe.version") == AXE_VERSION
        for size in (DESKTOP, PHONE):
            page.set_viewport_size(size)
            violations = page.evaluate("options => axe.run(document, options).then(r => r.violations)", options)
            if size is PHONE:
                # WCAG 1.4.10 (reflow), which axe does not test: at 390 px the page itself must not
                # scroll sideways (a wide table may, inside its own box).
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > PHONE["width"]:
                    self.overflow[name] = width
                page.screenshot(path=self.artifacts_dir / f"a11y-{_slug(name)}-390.png", full_page=True)
            for violation in violations:
                self.findings.append(
                    Finding(
                        page=name,
                        width=size["width"],
                        rule=violation["id"],
                        impact=violation["impact"] or "minor",
                        wcag=bool(set(violation["tags"]) & set(WCAG_21_A_AA)),
                        help=violation["help"],
                        url=violation["helpUrl"],
                        targets=[" ".join(map(str, node["target"])) for node in violation["nodes"]],
                    )
                )
        page.set_viewport_size(DESKTOP)

    def report(self) -> dict:
        return {
            "tags": WCAG_21_A_AA,
            "pages": self.pages,
            "widths": [DESKTOP["width"], PHONE["width"]],
            "findings": [{**f.__dict__, "blocking": f.blocking} for f in self.findings],
            "wider_than_390px": self.overflow,
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response.status if response else '—'}"


def _signed_in(browser: Browser, live_server, email: str, password: str, requests: list[str]) -> Page:
    page = new_page(browser)
    page.context.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/accounts/login/")
    sign_in(page, email, password)
    return page


def _assert_errors_tied_to_fields(page: Page, what: str) -> None:
    """A form in its error state: at least one field is marked ``aria-invalid`` and each one
    names, through ``aria-describedby``, an element on the page that holds its error text."""
    invalid = page.locator("[aria-invalid=true]")
    assert invalid.count() >= 1, f"{what}: no field is marked aria-invalid"
    for index in range(invalid.count()):
        element = invalid.nth(index)
        name = element.get_attribute("name")
        described_by = (element.get_attribute("aria-describedby") or "").split()
        assert described_by, f"{what}: field {name!r} has an error but no aria-describedby"
        texts = [page.locator(f"[id='{ref}']").inner_text().strip() for ref in described_by]
        assert any(texts), f"{what}: aria-describedby of {name!r} ({described_by}) points at no error text"


# --- the tests ---------------------------------------------------------------------------------


def test_key_pages_have_no_serious_or_critical_wcag_violations(live_server, chromium, world: World, artifacts_dir):
    base = live_server.url
    scanner = Scanner(artifacts_dir)
    requests: list[str] = []

    # --- Anyone: home, sign-in, sign-up in its error state, the public catalogues.
    anon = new_page(chromium)
    anon.context.on("request", lambda request: requests.append(request.url))
    _visit(anon, f"{base}/")
    scanner.check(anon, "home")
    _visit(anon, f"{base}/accounts/login/")
    scanner.check(anon, "sign-in")

    _visit(anon, f"{base}/accounts/signup/")
    anon.locator("input[name=phone]").fill("12345")
    anon.locator("input[name=password1]").fill("short")
    anon.locator("input[name=password2]").fill("different")
    anon.locator("form").filter(has=anon.locator("input[name=password1]")).locator("[type=submit]").click()
    expect(anon.locator("[aria-invalid=true]").first).to_be_attached()
    _assert_errors_tied_to_fields(anon, "sign-up")
    scanner.check(anon, "sign-up (errors)")

    _visit(anon, f"{base}/jobs/?q={POSITION_TITLE}")
    expect(anon.get_by_role("link", name=re.compile(POSITION_TITLE)).first).to_be_visible()
    scanner.check(anon, "job search")
    _visit(anon, f"{base}/jobs/{world.position.pk}/")
    scanner.check(anon, "position")
    _visit(anon, f"{base}/stations/")
    scanner.check(anon, "youth stations")
    _visit(anon, f"{base}/housing/")
    scanner.check(anon, "housing projects")
    _visit(anon, f"{base}/housing/{world.project.pk}/")
    scanner.check(anon, "housing project")
    _visit(anon, f"{base}/events/")
    scanner.check(anon, "events")
    _visit(anon, f"{base}/events/month/")
    scanner.check(anon, "events month")
    _visit(anon, f"{base}/events/{world.event.pk}/")
    scanner.check(anon, "event")
    _visit(anon, f"{base}/subsidies/")
    scanner.check(anon, "subsidy programmes")
    anon.context.close()

    # --- The graduate: profile in its error state, applications, booking, criteria, inbox.
    graduate = _signed_in(chromium, live_server, GRADUATE_EMAIL, GRADUATE_PASSWORD, requests)
    _visit(graduate, f"{base}/profile/")
    graduate.locator("#id_id_number").fill("410102200105171234")  # wrong check digit
    graduate.locator("form").filter(has=graduate.locator("#id_id_number")).locator("[type=submit]").click()
    expect(graduate.locator("[aria-invalid=true]").first).to_be_attached()
    _assert_errors_tied_to_fields(graduate, "profile")
    scanner.check(graduate, "profile (errors)")
    _visit(graduate, f"{base}/jobs/applications/")
    expect(graduate.get_by_text(POSITION_TITLE).first).to_be_visible()
    scanner.check(graduate, "my applications")
    _visit(graduate, f"{base}/stations/{world.station.pk}/")
    expect(graduate.locator("form[action$='/book/']")).to_have_count(1)
    scanner.check(graduate, "station booking")
    _visit(graduate, f"{base}/subsidies/{PROGRAMME_CODE}/")
    scanner.check(graduate, "subsidy programme")
    _visit(graduate, f"{base}/notifications/")
    scanner.check(graduate, "inbox")
    graduate.context.close()

    # --- The employer: dashboard, organisation, a position with its applications.
    employer = _signed_in(chromium, live_server, EMPLOYER_EMAIL, EMPLOYER_PASSWORD, requests)
    _visit(employer, f"{base}/jobs/employer/")
    scanner.check(employer, "employer dashboard")
    _visit(employer, f"{base}/organisations/{world.organisation.pk}/")
    scanner.check(employer, "organisation")
    _visit(employer, f"{base}/jobs/employer/positions/{world.position.pk}/")
    scanner.check(employer, "employer position")
    employer.context.close()

    # --- District staff in the admin: index, a changelist, a change form, a decision page.
    staff = _signed_in(chromium, live_server, STAFF_EMAIL, STAFF_PASSWORD, requests)
    _visit(staff, f"{base}/admin/")
    scanner.check(staff, "admin index")
    _visit(staff, f"{base}/admin/jobs/jobapplication/")
    scanner.check(staff, "admin applications")
    _visit(staff, f"{base}/admin/jobs/jobapplication/{world.application.pk}/change/")
    scanner.check(staff, "admin application")
    _visit(staff, f"{base}/admin/jobs/position/{world.pending_position.pk}/change/")
    scanner.check(staff, "admin position")
    _visit(staff, f"{base}/admin/jobs/position/{world.pending_position.pk}/reject/")
    scanner.check(staff, "admin reject position")
    _visit(staff, f"{base}/admin/subsidies/subsidyapplication/")
    scanner.check(staff, "admin subsidy applications")
    _visit(staff, f"{base}/admin/apartments/stay/today/")
    scanner.check(staff, "admin stays today")
    _visit(staff, f"{base}/admin/events/event/")
    scanner.check(staff, "admin events")
    _visit(staff, f"{base}/admin/portal/organisation/{world.organisation.pk}/change/")
    scanner.check(staff, "admin organisation")
    staff.context.close()

    report = scanner.report()
    (artifacts_dir / "axe-report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for finding in scanner.findings:
        if not finding.blocking:
            print(finding.line())

    assert len(scanner.pages) >= 14
    outside = sorted(
        {url for url in requests if urlsplit(url).scheme in ("http", "https") and not url.startswith(base)}
    )
    assert not outside, f"requests left the live server (axe must be the local copy): {outside}"
    problems = [f.line() for f in scanner.findings if f.blocking]
    problems += [f"[reflow] {name} @390px: the page is {width}px wide" for name, width in scanner.overflow.items()]
    if problems:
        pytest.fail(
            f"{len(problems)} serious/critical WCAG 2.1 A/AA problems:\n" + "\n".join(problems),
            pytrace=False,
        )


def _focus_ring(page: Page) -> dict:
    """How the focused element shows its focus: outline style and width, box shadow."""
    return page.evaluate(
        """() => {
            const e = document.activeElement, s = getComputedStyle(e);
            return {tag: e.tagName, text: (e.innerText || e.value || e.name || '').trim().slice(0, 40),
                    outline: s.outlineStyle, width: parseFloat(s.outlineWidth), shadow: s.boxShadow};
        }"""
    )


def _tab_with_visible_focus(page: Page, presses: int, where: str) -> None:
    """Tab ``presses`` times from the top of the page: each element reached shows its focus."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        ring = _focus_ring(page)
        if ring["tag"] == "BODY":
            break
        visible = (ring["outline"] != "none" and ring["width"] >= 2) or ring["shadow"] != "none"
        assert visible, f"{where}: no visible focus on {ring}"


def test_keyboard_skip_link_and_visible_focus(live_server, page: Page, luolong):
    """From the top of a page the first Tab reaches the skip link, which shows itself and moves
    the focus to the main content; every element the keyboard then reaches shows a focus ring,
    at desktop and at phone width. The staff admin has its own skip link, which works too."""
    staff = verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        _visit(page, f"{live_server.url}/")
        page.keyboard.press("Tab")
        skip = page.locator(":focus")
        expect(skip).to_have_attribute("href", "#main")
        expect(skip).to_have_accessible_name(re.compile(r"\S"))
        expect(skip).to_be_in_viewport()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"#main$"))
        expect(page.locator("main#main")).to_be_focused()
        # Tab goes on from the main content, not back to the header.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('main') !== null"), _focus_ring(page)

        # The whole header and the first controls of the sign-in form, one Tab at a time.
        _visit(page, f"{live_server.url}/accounts/login/")
        _tab_with_visible_focus(page, 16, f"sign-in @{size['width']}px")

    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/jobs/jobapplication/")
    sign_in(page, staff.email, STAFF_PASSWORD)
    expect(page).to_have_url(re.compile(r"/admin/jobs/jobapplication/$"))
    # The URL changes when the response starts; Tab must go to the loaded page.
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute("href", "#content-start")
    expect(page.locator(":focus")).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#content-start$"))
    _visit(page, f"{live_server.url}/admin/jobs/jobapplication/")
    _tab_with_visible_focus(page, 12, "admin changelist")


def test_html_lang_follows_the_active_language(live_server, page: Page):
    """``<html lang>`` names the language the page is in: Chinese by default, English after
    the language switch, on the portal's pages and on the sign-in page; the switch button
    names its own language."""
    html = page.locator("html")
    _visit(page, f"{live_server.url}/jobs/")
    expect(html).to_have_attribute("lang", "zh-hans")
    switch = page.locator("form.lang-form button[name=language][value=en]")
    expect(switch).to_have_attribute("lang", "en")
    switch.click()
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/jobs/$"))
    _visit(page, f"{live_server.url}/accounts/login/")
    expect(html).to_have_attribute("lang", "en")
    page.locator("form.lang-form button[name=language][value=zh-hans]").click()
    expect(html).to_have_attribute("lang", "zh-hans")


def test_my_applications_page_has_no_serious_or_critical_wcag_violations(
    live_server, chromium, world: World, artifacts_dir
):
    """The page 我的申请 (every programme on one page) with the graduate's job application and its
    interview ahead: axe at 1280 and 390 px, no sideways scrolling on the phone, headings in
    order (h1, an h2 per section, an h3 per row) and each status badge written out in words."""
    scanner = Scanner(artifacts_dir)
    requests: list[str] = []
    graduate = _signed_in(chromium, live_server, GRADUATE_EMAIL, GRADUATE_PASSWORD, requests)
    graduate.locator("nav.main-nav").get_by_role("link", name="我的申请").click()
    expect(graduate).to_have_url(re.compile(r"/my/applications/$"))
    row = graduate.locator(f"[data-row='job-{world.application.pk}']")
    expect(row).to_contain_text(POSITION_TITLE)
    expect(row.get_by_test_id("status")).to_have_text(re.compile(r"\S"))
    expect(row.get_by_test_id("action")).to_be_visible()
    levels = graduate.evaluate("[...document.querySelectorAll('main h1, main h2, main h3')].map(h => h.tagName)")
    assert levels[0] == "H1" and levels.count("H1") == 1, levels
    assert all(int(b[1]) - int(a[1]) <= 1 for a, b in zip(levels, levels[1:], strict=False)), levels
    scanner.check(graduate, "my applications (every programme)")
    graduate.context.close()

    problems = [f.line() for f in scanner.findings if f.blocking]
    problems += [f"[reflow] {name} @390px: the page is {width}px wide" for name, width in scanner.overflow.items()]
    assert not problems, "\n".join(problems)
