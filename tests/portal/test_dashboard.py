"""The page "My applications" (portal:applications): every programme's rows of the signed-in person on one
page, with the status, the next step and the page to act on; nobody else's rows; a query count
that does not grow with the rows; the sections registered by the apps, never imported by the
core."""

from __future__ import annotations

import ast
import datetime as dt
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from apartments.constants import HousingApplicationStatus, LeaseStatus, OfferStatus, StayStatus, UnitState
from apartments.models import HousingApplication, HousingOffer, Lease, LeaseRecheck, Unit
from events.constants import RegistrationStatus
from jobs.constants import ApplicationStatus
from jobs.models import Interview, JobApplication
from portal import dashboard
from portal.constants import Role
from subsidies.constants import SubsidyStatus
from subsidies.models import Programme, SubsidyApplication
from tests.apartments.conftest import make_housing_graduate, make_project, make_round
from tests.apartments.factories import FollowUpFactory, StationFactory, StayFactory
from tests.events.factories import EventFactory, RegistrationFactory
from tests.jobs.factories import JobApplicationFactory
from tests.portal.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/my/applications/"


class Page(HTMLParser):
    """The rows of the page by ``data-row`` (section, status, next-step link), the sections in
    order, and the headings in document order."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, dict] = {}
        self.sections: list[str] = []
        self.headings: list[str] = []
        self.testids: set[str] = set()
        self.links: set[str] = set()
        self._row: dict | None = None
        self._in_action = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("h1", "h2", "h3", "h4"):
            self.headings.append(tag)
        if a.get("data-testid"):
            self.testids.add(a["data-testid"])
        if tag == "a" and a.get("href"):
            self.links.add(a["href"])
        if tag == "section" and "data-section" in a:
            self.sections.append(a["data-section"])
        if tag == "li" and "data-row" in a:
            self._row = self.rows.setdefault(
                a["data-row"], {"section": self.sections[-1], "status": None, "action": None, "text": ""}
            )
        if self._row is None:
            return
        if "data-status" in a:
            self._row["status"] = a["data-status"]
        if a.get("data-testid") == "action":
            self._in_action = True
        elif self._in_action and tag == "a":
            self._row["action"] = a["href"]
            self._in_action = False

    def handle_endtag(self, tag):
        if tag == "li":
            self._row = None

    def handle_data(self, data):
        if self._row is not None:
            self._row["text"] += data


def _get(client, user, *, lang: str | None = None, **params):
    client.force_login(user)
    headers = {"HTTP_ACCEPT_LANGUAGE": lang} if lang else {}
    return client.get(URL, params, **headers)


def _subsidy(user, district, *, code: str, status: str, key: str, **fields) -> SubsidyApplication:
    today = timezone.localdate()
    return SubsidyApplication.objects.create(
        programme=Programme.objects.get(code=code),
        applicant=user,
        beneficiary=fields.pop("beneficiary", user),
        district=district,
        period_start=today,
        period_end=today,
        dedupe_key=key,
        status=status,
        amount=Decimal("500.00"),
        **fields,
    )


def _fill(user, district, *, n: int = 1) -> dict:
    """``n`` rows of ``user`` in every section, each waiting for them where the programme
    allows: an interview ahead, a booked stay (then finished stays with a follow-up to
    answer), unit offers to answer, ineligible subsidy applications, places offered at an
    event (and one waiting-list place, so the waiting-list query always runs)."""
    now = timezone.now()
    made: dict = {"jobs": [], "stays": [], "housing": [], "subsidies": [], "events": []}
    for _ in range(n):
        application = JobApplicationFactory(applicant=user, interview=True)
        Interview.objects.create(application=application, starts_at=now + dt.timedelta(days=3), place="开元大道 1 号")
        made["jobs"].append(application)

    station = StationFactory(district=district)
    made["stays"].append(StayFactory(applicant=user, station=station))
    for _ in range(n - 1):
        made["stays"].append(FollowUpFactory(stay=StayFactory(applicant=user, station=station, checked_out=True)).stay)

    project = make_project(district, types=(("单间", "45", "900", n),))
    units = list(Unit.objects.filter(project=project))
    for i in range(n):
        application = HousingApplication.objects.create(
            round=make_round(project, name=f"第{i + 1}批"), applicant=user, status=HousingApplicationStatus.APPROVED
        )
        HousingOffer.objects.create(application=application, unit=units[i], deadline=now + dt.timedelta(days=7))
        Unit.objects.filter(pk=units[i].pk).update(state=UnitState.OFFERED)
        made["housing"].append(application)

    for i in range(n):
        made["subsidies"].append(
            _subsidy(user, district, code="rent-subsidy", status=SubsidyStatus.INELIGIBLE, key=f"{user.pk}-{i}")
        )

    first = EventFactory.full(waitlisted=1, capacity=1, district=district)
    made["events"].append(RegistrationFactory(event=first, user=user, waitlisted=True))
    for _ in range(n - 1):
        made["events"].append(RegistrationFactory(user=user, offered=True))
    return made


# --- the registry ------------------------------------------------------------------------------


def test_every_app_registers_its_sections_in_order():
    assert [key for key, _provider in dashboard.registered_sections()] == [
        "jobs",
        "stays",
        "housing",
        "subsidies",
        "events",
    ]


def test_the_core_never_imports_the_apps():
    tree = ast.parse(Path(dashboard.__file__).read_text())
    imported = {
        (node.module or "").split(".")[0] if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not imported & {"jobs", "apartments", "subsidies", "events"}


# --- who sees the page ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_route_is_my_applications():
    assert reverse("portal:applications") == URL


def test_the_menu_leads_here_and_the_jobs_section_to_the_jobs_page(client, graduate_a, district_1):
    JobApplicationFactory(applicant=graduate_a)
    page = Page(_get(client, graduate_a).content.decode())
    assert URL in page.links
    assert reverse("jobs:my_applications") in page.links


# --- the owner's rows ----------------------------------------------------------------------------


def test_rows_of_every_programme_with_status_and_next_step(client, district_1):
    user = make_housing_graduate(district=district_1)
    now = timezone.now()
    jobs_page = reverse("jobs:my_applications")

    interview = JobApplicationFactory(applicant=user, interview=True)
    Interview.objects.create(application=interview, starts_at=now + dt.timedelta(days=2), place="开元大道 1 号")
    rejected = JobApplicationFactory(applicant=user, rejected=True)

    station = StationFactory(district=district_1)
    booked = StayFactory(applicant=user, station=station)
    follow_up = FollowUpFactory(stay=StayFactory(applicant=user, station=station, checked_out=True))

    project = make_project(district_1)
    unit, let_unit = list(Unit.objects.filter(project=project)[:2])
    offered = HousingApplication.objects.create(
        round=make_round(project), applicant=user, status=HousingApplicationStatus.APPROVED
    )
    offer = HousingOffer.objects.create(application=offered, unit=unit, deadline=now + dt.timedelta(days=5))
    housed = HousingApplication.objects.create(
        round=make_round(project, name="2025年第四批", status="closed"),
        applicant=user,
        status=HousingApplicationStatus.HOUSED,
    )
    accepted = HousingOffer.objects.create(
        application=housed, unit=let_unit, deadline=now - dt.timedelta(days=30), status=OfferStatus.ACCEPTED
    )
    lease = Lease.objects.create(
        offer=accepted,
        unit=let_unit,
        tenant=user,
        start=timezone.localdate() - dt.timedelta(days=350),
        end=timezone.localdate() + dt.timedelta(days=15),
        monthly_rent=Decimal("900.00"),
        status=LeaseStatus.ACTIVE,
    )
    LeaseRecheck.objects.create(lease=lease, due_on=timezone.localdate() + dt.timedelta(days=10))

    notice = _subsidy(
        user,
        district_1,
        code="interview-travel",
        status=SubsidyStatus.NOTICE,
        key="notice",
        notice_ends_on=timezone.localdate() + dt.timedelta(days=4),
    )
    ineligible = _subsidy(user, district_1, code="rent-subsidy", status=SubsidyStatus.INELIGIBLE, key="rent")

    full = EventFactory.full(waitlisted=1, capacity=1, district=district_1)
    waiting = RegistrationFactory(event=full, user=user, waitlisted=True)
    place = RegistrationFactory(user=user, offered=True)

    response = _get(client, user)
    assert response.status_code == 200
    page = Page(response.content.decode())
    rows = page.rows

    assert rows[f"job-{interview.pk}"]["section"] == "jobs"
    assert rows[f"job-{interview.pk}"]["status"] == ApplicationStatus.INTERVIEW
    assert rows[f"job-{interview.pk}"]["action"] == jobs_page
    assert rows[f"job-{rejected.pk}"]["status"] == ApplicationStatus.REJECTED
    assert rows[f"job-{rejected.pk}"]["action"] is None
    assert interview.position.organisation.name in rows[f"job-{interview.pk}"]["text"]

    assert rows[f"stay-{booked.pk}"]["status"] == StayStatus.BOOKED
    assert rows[f"stay-{booked.pk}"]["action"] == reverse("apartments:my_stays")
    assert rows[f"stay-{follow_up.stay_id}"]["status"] == StayStatus.CHECKED_OUT
    assert rows[f"stay-{follow_up.stay_id}"]["action"] == reverse("apartments:my_stays")

    my_housing = reverse("apartments:my_housing")
    assert rows[f"housing-{offered.pk}"]["status"] == HousingApplicationStatus.APPROVED
    assert rows[f"housing-{offered.pk}"]["action"] == my_housing
    assert offer.unit.label in rows[f"housing-{offered.pk}"]["text"]
    assert f"{timezone.localtime(offer.deadline):%Y-%m-%d %H:%M}" in rows[f"housing-{offered.pk}"]["text"]
    # The lease shows with the application that led to it; its yearly re-check is the next step.
    assert rows[f"housing-{housed.pk}"]["status"] == HousingApplicationStatus.HOUSED
    assert rows[f"housing-{housed.pk}"]["action"] == my_housing
    assert f"{lease.end:%Y-%m-%d}" in rows[f"housing-{housed.pk}"]["text"]
    assert f"lease-{lease.pk}" not in rows

    assert rows[f"subsidy-{notice.pk}"]["status"] == SubsidyStatus.NOTICE
    assert f"{notice.notice_ends_on:%Y-%m-%d}" in rows[f"subsidy-{notice.pk}"]["text"]
    assert "500.00" in rows[f"subsidy-{notice.pk}"]["text"]
    assert rows[f"subsidy-{notice.pk}"]["action"] is None
    assert rows[f"subsidy-{ineligible.pk}"]["action"] == reverse("subsidies:application", args=[ineligible.pk])

    assert rows[f"registration-{waiting.pk}"]["status"] == RegistrationStatus.WAITLISTED
    # Behind the one who came first, in the page's language.
    assert (
        translation.gettext("Number %(n)d on the waiting list") % {"n": 2} in rows[f"registration-{waiting.pk}"]["text"]
    )
    assert rows[f"registration-{place.pk}"]["status"] == RegistrationStatus.OFFERED
    assert rows[f"registration-{place.pk}"]["action"] == reverse("events:mine")

    assert page.sections == ["jobs", "stays", "housing", "subsidies", "events"]
    # h1, then an h2 per section with an h3 per row: never a level skipped.
    assert page.headings[0] == "h1"
    assert page.headings.count("h2") == 5
    assert page.headings.count("h3") == len(rows) == 10
    assert "profile-prompt" not in page.testids
    assert "empty-sections" not in page.testids

    board = dashboard.dashboard_for(user=user)
    assert board.waiting == 7  # interview, stay, follow-up, offer, re-check, ineligible, place offered
    summary = response.content.decode()
    assert f'data-in-progress="{board.in_progress}"' in summary
    assert 'data-waiting="7"' in summary
    assert board.in_progress == 9  # every row but the rejected job application


def test_rows_are_newest_first_within_a_section(client, graduate_a):
    older = JobApplicationFactory(applicant=graduate_a)
    JobApplication.objects.filter(pk=older.pk).update(created_at=timezone.now() - dt.timedelta(days=20))
    newer = JobApplicationFactory(applicant=graduate_a)
    keys = list(Page(_get(client, graduate_a).content.decode()).rows)
    assert keys == [f"job-{newer.pk}", f"job-{older.pk}"]


def test_another_graduates_items_never_appear(client, graduate_a, graduate_b, district_1, district_2):
    mine = _fill(graduate_a, district_1)
    theirs = _fill(graduate_b, district_2)
    page_a = Page(_get(client, graduate_a).content.decode())
    page_b = Page(_get(client, graduate_b).content.decode())
    own_keys = {
        *(f"job-{a.pk}" for a in mine["jobs"]),
        *(f"stay-{s.pk}" for s in mine["stays"]),
        *(f"housing-{h.pk}" for h in mine["housing"]),
        *(f"subsidy-{s.pk}" for s in mine["subsidies"]),
        *(f"registration-{r.pk}" for r in mine["events"]),
    }
    assert set(page_a.rows) == own_keys
    assert not set(page_a.rows) & set(page_b.rows)
    assert len(page_b.rows) == 5 == sum(len(made) for made in theirs.values())


def test_closed_items_older_than_the_cut_off_are_behind_a_link(client, graduate_a):
    recent = JobApplicationFactory(applicant=graduate_a, withdrawn=True)
    old = JobApplicationFactory(applicant=graduate_a, rejected=True)
    open_old = JobApplicationFactory(applicant=graduate_a)
    long_ago = timezone.now() - dt.timedelta(days=dashboard.RECENT_DAYS + 10)
    JobApplication.objects.filter(pk__in=[old.pk, open_old.pk]).update(created_at=long_ago, updated_at=long_ago)

    page = Page(_get(client, graduate_a).content.decode())
    assert set(page.rows) == {f"job-{recent.pk}", f"job-{open_old.pk}"}  # an open one is never hidden
    assert "show-closed" in page.testids
    assert "?closed=1" in page.links

    page = Page(_get(client, graduate_a, closed="1").content.decode())
    assert set(page.rows) == {f"job-{recent.pk}", f"job-{open_old.pk}", f"job-{old.pk}"}
    assert "show-closed" not in page.testids


def test_a_graduate_with_no_rows_sees_one_line_with_the_programmes(client, graduate_a):
    page = Page(_get(client, graduate_a).content.decode())
    assert page.rows == {}
    assert page.sections == []
    assert "empty-sections" in page.testids
    for name in ("jobs:search", "apartments:stations", "apartments:projects", "subsidies:programmes", "events:list"):
        assert reverse(name) in page.links
    assert page.headings == ["h1"]


def test_empty_sections_collapse_next_to_filled_ones(client, graduate_a):
    JobApplicationFactory(applicant=graduate_a)
    page = Page(_get(client, graduate_a).content.decode())
    assert page.sections == ["jobs"]
    assert "empty-sections" in page.testids
    assert reverse("events:list") in page.links


# --- profiles, employers, staff ------------------------------------------------------------------


def test_a_graduate_without_a_profile_is_asked_to_complete_it(client):
    user = UserFactory(role=Role.GRADUATE)
    response = _get(client, user)
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert "profile-prompt" in page.testids
    assert reverse("portal:profile") in page.links


def test_a_graduate_with_a_complete_profile_is_not_prompted(client, district_1):
    user = make_housing_graduate(district=district_1)
    assert "profile-prompt" not in Page(_get(client, user).content.decode()).testids


def test_an_employer_is_pointed_to_the_employer_pages(client, employer_x, graduate_a, district_1):
    organisation = employer_x.memberships.get().organisation
    claim = _subsidy(
        employer_x,
        district_1,
        code="employer-hiring",
        status=SubsidyStatus.SUBMITTED,
        key="claim",
        organisation=organisation,
        beneficiary=graduate_a,
    )
    response = _get(client, employer_x)
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert "employer-line" in page.testids
    assert reverse("jobs:employer") in page.links
    assert reverse("subsidies:mine") in page.links
    # The organisation's claim is not the employer's own application.
    assert f"subsidy-{claim.pk}" not in page.rows
    assert "profile-prompt" not in page.testids
    assert "empty-sections" not in page.testids


def test_staff_get_a_page_pointing_to_the_admin(client, staff_1):
    response = _get(client, staff_1)
    assert response.status_code == 200
    page = Page(response.content.decode())
    assert "staff-line" in page.testids
    assert "profile-prompt" not in page.testids


# --- languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_page_renders_in_both_languages(client, graduate_a, district_1, lang):
    made = _fill(graduate_a, district_1)
    response = _get(client, graduate_a, lang=lang)
    html = response.content.decode()
    assert f'<html lang="{lang}"' in html
    with translation.override(lang):
        interview = str(ApplicationStatus.INTERVIEW.label)
        ineligible = str(SubsidyStatus.INELIGIBLE.label)
        title = Programme.objects.get(code="rent-subsidy").name
    rows = Page(html).rows
    assert interview in rows[f"job-{made['jobs'][0].pk}"]["text"]
    assert ineligible in rows[f"subsidy-{made['subsidies'][0].pk}"]["text"]
    assert title in rows[f"subsidy-{made['subsidies'][0].pk}"]["text"]


def test_tests_run_in_chinese_by_default():
    assert translation.get_language() == settings.LANGUAGE_CODE == "zh-hans"


# --- query budget --------------------------------------------------------------------------------

# Session and user, unread messages, the profile and its completeness, the organisations,
# and each section's selector queries (jobs 2, stays 2, housing 5, subsidies 1, events 2).
MAX_QUERIES = 20


def test_query_count_does_not_grow_with_the_rows(client, district_1, django_assert_max_num_queries):
    one = make_housing_graduate(district=district_1)
    five = make_housing_graduate(district=district_1)
    _fill(one, district_1, n=1)
    _fill(five, district_1, n=5)

    counts = {}
    for user, n in ((one, 1), (five, 5)):
        _get(client, user)  # warm the session and the content types
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL)
        page = Page(response.content.decode())
        assert len(page.rows) == 5 * n
        assert all(len([r for r in page.rows.values() if r["section"] == s]) == n for s in page.sections)
        counts[n] = len(queries)
    assert counts[1] == counts[5], counts
    with django_assert_max_num_queries(MAX_QUERIES):
        client.get(URL)
