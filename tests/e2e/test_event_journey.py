"""A community event from a full house to a check-in, in a real browser and in Chinese (issue 7,
"One browser journey"): a graduate registers for a recruitment fair whose one place is taken
and lands on the waiting list (number 1); the person holding the place cancels; the graduate
sees the offer on "我的活动" and confirms it, gets a ticket with a QR code and a short code;
district staff sign in on their own phone, open the event's check-in page and type the code.

The event and the first participant are made through the services, as an organiser and
another person would. The cancellation is made through the service too: it is the other
person's decision, not part of what the graduate sees. Both the graduate and the staff member
sign in through the real sign-in page, each in a browser context of their own.

The portal's own strings on these pages may still be untranslated while the catalogue catches
up, so the steps find elements by the event's data (its Chinese question label, form actions,
test ids) rather than by the button captions, and the database is checked after every step."""

import contextlib
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from events import services as event_services
from events.constants import EventKind, EventStatus, RegistrationStatus
from events.models import Event, Registration
from tests.e2e.browser import new_page, sign_in, snap_other, verified_email
from tests.e2e.conftest import PHONE
from tests.portal.factories import DistrictStaffFactory, ProfileFactory, UserFactory

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters), which the flush after the test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRADUATE_EMAIL = "zhao.mingyue@example.com"
GRADUATE_PASSWORD = "Luoyang-2026-graduate"
GRADUATE_NAME = "赵明月"
STAFF_EMAIL = "luolong.events@example.com"
STAFF_PASSWORD = "Luoyang-2026-district"
EVENT_TITLE = "2026 洛龙区装备制造校园招聘会"
QUESTION = "您的专业"

R = RegistrationStatus


@pytest.fixture
def district_staff(luolong):
    return verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)


@pytest.fixture
def graduate(luolong):
    """A bachelor with a complete profile (ID number, so an age; education, so a graduate)."""
    profile = ProfileFactory(complete=True, real_name=GRADUATE_NAME, district=luolong)
    return verified_email(profile.user, GRADUATE_EMAIL, GRADUATE_PASSWORD)


@pytest.fixture
def full_event(luolong, district_staff) -> Event:
    """A published recruitment fair for graduates aged 18–35 with one place, already taken."""
    now = timezone.now().replace(second=0, microsecond=0)
    starts = now + dt.timedelta(days=3)
    event = event_services.event_create(
        actor=district_staff,
        data={
            "kind": EventKind.RECRUITMENT,
            "title": EVENT_TITLE,
            "description": "二十家装备制造企业现场招聘，欢迎应届毕业生参加。",
            "district": luolong,
            "place": "洛阳市洛龙区开元大道 200 号青年之家",
            "starts_at": starts,
            "ends_at": starts + dt.timedelta(hours=3),
            "capacity": 1,
            "registration_opens": now - dt.timedelta(hours=1),
            "registration_closes": starts - dt.timedelta(hours=2),
            "min_age": 18,
            "max_age": 35,
            "graduates_only": True,
            "questions": [{"label": QUESTION, "type": "text", "required": True}],
        },
    )
    event_services.event_publish(event=event, actor=district_staff)
    holder = ProfileFactory(complete=True, real_name="钱多多").user
    first = event_services.registration_create(event=event, user=holder, answers={"0": "会计学"})
    assert first.status == R.CONFIRMED
    return event


# --- helpers ----------------------------------------------------------------------------------------


def _registration(graduate, event) -> Registration:
    return Registration.objects.filter(user=graduate, event=event).order_by("-sequence").first()


# --- the journey -----------------------------------------------------------------------------------


def test_graduate_waitlisted_for_a_full_event_gets_the_freed_place_and_is_checked_in(
    live_server, chromium, page: Page, snap, artifacts_dir, full_event, graduate, district_staff, at_the_event
):
    event = full_event
    detail_path = f"/events/{event.pk}/"

    # --- 1. The graduate finds the fair in the list: full (0 of 1 places free).
    page.goto(f"{live_server.url}/events/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    card = page.locator("article.event-card").filter(has_text=EVENT_TITLE)
    expect(card.get_by_test_id("free-places")).to_contain_text(re.compile(r"\b0\b"))
    snap("event-01-list")
    # The month view shows it on its day.
    page.goto(f"{live_server.url}/events/month/")
    starts = timezone.localtime(event.starts_at)
    if starts.month != timezone.localdate().month:
        page.goto(f"{live_server.url}/events/month/?year={starts.year}&month={starts.month}")
    expect(page.locator("a.day-event").filter(has_text=EVENT_TITLE)).to_have_count(1)
    snap("event-01-month")

    # --- 2. Signs in from the event's page, sees every criterion met (✓) and the question.
    page.goto(f"{live_server.url}/accounts/login/?next={detail_path}")
    sign_in(page, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    expect(page).to_have_url(re.compile(rf"{detail_path}$"))
    expect(page.get_by_role("heading", level=1, name=EVENT_TITLE)).to_be_visible()
    expect(page.get_by_test_id("free-places")).to_contain_text(re.compile(r"\b0\b"))
    criteria = page.locator("ul.criteria li")
    expect(criteria).to_have_count(5)  # open, window, age, graduate, once
    expect(page.locator("ul.criteria li.fail")).to_have_count(0)
    for i in range(5):
        expect(criteria.nth(i)).to_contain_text("✓")
    form = page.locator(f"form[action='{detail_path}register/']")
    answer = form.get_by_label(QUESTION)
    expect(answer).to_be_visible()
    snap("event-02-detail-full")

    # --- 3. Submitting without the required answer (the browser's own check switched off)
    # keeps them on the page with the question named in the message.
    answer.evaluate("el => el.required = false")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{detail_path}$"))
    expect(page.locator(".message-error")).to_contain_text(QUESTION)
    assert _registration(graduate, event) is None

    # --- 4. Answers in Chinese and joins the waiting list: number 1.
    page.locator(f"form[action='{detail_path}register/']").get_by_label(QUESTION).fill("机械设计制造及其自动化")
    page.locator(f"form[action='{detail_path}register/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/events/mine/$"))
    expect(page.locator(".message-success")).to_be_visible()
    ticket = page.locator("article.card").filter(has_text=EVENT_TITLE)
    expect(ticket.get_by_test_id("waitlist-position")).to_contain_text(re.compile(r"\b1\b"))
    expect(ticket.get_by_test_id("ticket-code")).to_have_count(0)
    snap("event-03-mine-waitlisted")

    registration = _registration(graduate, event)
    assert registration.status == R.WAITLISTED
    assert registration.answers == {"0": "机械设计制造及其自动化"}

    # --- 5. The person holding the place cancels: the place is offered to the graduate.
    holder_registration = Registration.objects.get(event=event, status=R.CONFIRMED)
    event_services.registration_cancel(registration=holder_registration, actor=holder_registration.user)
    registration.refresh_from_db()
    assert registration.status == R.OFFERED
    assert registration.offer_expires_at > timezone.now() + dt.timedelta(hours=11)

    page.reload()
    ticket = page.locator("article.card").filter(has_text=EVENT_TITLE)
    expect(ticket.get_by_test_id("waitlist-position")).to_have_count(0)
    accept = ticket.locator(f"form[action$='/registrations/{registration.pk}/accept/'] button")
    expect(accept).to_be_visible()
    offer_deadline = timezone.localtime(registration.offer_expires_at).strftime("%Y-%m-%d %H:%M")
    expect(ticket).to_contain_text(offer_deadline)
    snap("event-04-mine-offered")

    # --- 6. Confirms: a ticket with a QR code and the short code.
    accept.click()
    expect(page).to_have_url(re.compile(r"/events/mine/$"))
    expect(page.locator(".message-success")).to_be_visible()
    registration.refresh_from_db()
    assert registration.status == R.CONFIRMED and registration.offer_expires_at is None
    ticket = page.locator("article.card").filter(has_text=EVENT_TITLE)
    expect(ticket.get_by_test_id("ticket-code")).to_have_text(registration.check_in_code)
    qr = ticket.locator(".ticket img")
    expect(qr).to_be_visible()
    # The QR image loads (the owner's confirmed ticket): wait for the browser to decode it.
    page.wait_for_function("img => img.complete && img.naturalWidth > 100", arg=qr.element_handle())
    snap("event-05-mine-ticket")

    # --- 7. The evening of the event: district staff sign in on their phone and open the
    # check-in page (it opens two hours before the start).
    at_the_event(event)
    staff_page = new_page(chromium)
    try:
        staff_page.set_viewport_size(PHONE)
        staff_page.goto(f"{live_server.url}/events/{event.pk}/check-in/")
        sign_in(staff_page, STAFF_EMAIL, STAFF_PASSWORD)
        expect(staff_page).to_have_url(re.compile(rf"/events/{event.pk}/check-in/$"))
        expect(staff_page.get_by_role("heading", level=1)).to_contain_text(EVENT_TITLE)
        code_input = staff_page.locator("form.checkin-form input[name=code]")
        expect(code_input).to_be_focused()
        snap_other(staff_page, artifacts_dir, "event-06-staff-check-in")

        # A mistyped code first: a message, nobody checked in.
        staff_page.set_viewport_size(PHONE)
        code_input.fill("ABCD2345" if registration.check_in_code != "ABCD2345" else "ABCD2346")
        staff_page.locator("form.checkin-form button[type=submit]").click()
        expect(staff_page.locator(".message-error")).to_be_visible()
        registration.refresh_from_db()
        assert registration.status == R.CONFIRMED

        # Then the graduate's code, typed in lower case as people do on a phone.
        staff_page.locator("form.checkin-form input[name=code]").fill(registration.check_in_code.lower())
        staff_page.locator("form.checkin-form button[type=submit]").click()
        expect(staff_page).to_have_url(re.compile(rf"/events/{event.pk}/check-in/$"))
        expect(staff_page.locator(".message-success")).to_contain_text(GRADUATE_NAME)
        snap_other(staff_page, artifacts_dir, "event-07-staff-checked-in")

        # The same code again: "already checked in".
        staff_page.locator("form.checkin-form input[name=code]").fill(registration.check_in_code)
        staff_page.locator("form.checkin-form button[type=submit]").click()
        expect(staff_page.locator(".message-error")).to_contain_text(
            timezone.localtime(Registration.objects.get(pk=registration.pk).checked_in_at).strftime("%H:%M")
        )

        # The organiser's view of the registrations.
        staff_page.goto(f"{live_server.url}/events/organise/{event.pk}/registrations/")
        rows = staff_page.locator("table[data-testid=registrations] tbody tr")
        expect(rows).to_have_count(2)
        expect(staff_page.locator(f"tr[data-registration='{registration.pk}']")).to_have_attribute(
            "data-status", "attended"
        )
        snap_other(staff_page, artifacts_dir, "event-08-staff-registrations")
    except BaseException:
        with contextlib.suppress(Exception):  # the page may be gone; the test's error is what matters
            staff_page.screenshot(path=artifacts_dir / "FAILED-event-journey-staff.png", full_page=True)
        raise
    finally:
        staff_page.context.close()

    registration.refresh_from_db()
    assert registration.status == R.ATTENDED
    assert registration.checked_in_at is not None
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED
    assert dict(Registration.objects.filter(event=event).values_list("user", "status")) == {
        holder_registration.user_id: R.CANCELLED,
        graduate.pk: R.ATTENDED,
    }

    # The graduate sees it too.
    page.reload()
    ticket = page.locator("article.card").filter(has_text=EVENT_TITLE)
    expect(ticket.get_by_test_id("registration-status")).to_be_visible()
    expect(ticket.get_by_test_id("ticket-code")).to_have_count(0)
    snap("event-09-mine-attended")


def test_employer_drafts_a_fair_with_the_browsers_date_pickers(live_server, page: Page, snap, luolong):
    """The organiser form in Chromium: datetime-local inputs, the venue list, a question.
    A verified employer drafts a recruitment fair and submits it for review."""
    from portal import services as portal_services
    from tests.portal.factories import CityStaffFactory, OrganisationFactory

    organisation = OrganisationFactory(name="洛阳轴承集团有限公司", district=luolong)
    portal_services.organisation_verify(organisation=organisation, actor=CityStaffFactory())
    employer = verified_email(organisation.memberships.get().user, "hr@zys.example.com", "Luoyang-2026-employer")
    UserFactory()  # someone else, to make sure the page lists only this employer's events

    page.goto(f"{live_server.url}/accounts/login/?next=/events/organise/new/")
    sign_in(page, "hr@zys.example.com", "Luoyang-2026-employer")
    expect(page).to_have_url(re.compile(r"/events/organise/new/$"))
    starts = timezone.localtime(timezone.now() + dt.timedelta(days=14)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    page.locator("#id_kind").select_option("recruitment")
    page.locator("#id_title").fill("洛阳轴承集团 2026 校园专场招聘")
    page.locator("#id_description").fill("工艺、质量、销售岗位，欢迎机械类专业毕业生。")
    page.locator("#id_district").select_option(label="洛龙区")
    page.locator("#id_place").fill("洛阳市洛龙区开元大道 1 号")
    page.locator("#id_starts_at").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_ends_at").fill((starts + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_capacity").fill("80")
    page.locator("#id_registration_opens").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_registration_closes").fill((starts - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_graduates_only").check()
    page.locator("#id_questions-0-label").fill("意向岗位")
    page.locator("#id_questions-0-type").select_option("choice")
    page.locator("#id_questions-0-choices").fill("工艺，质量，销售")
    page.locator("#id_questions-0-required").check()
    snap("event-10-organise-new")
    page.locator("form.event-form button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/events/organise/\d+/$"))
    event = Event.objects.get(organiser=organisation)
    assert (event.status, event.kind, event.capacity, event.created_by_id) == (
        EventStatus.DRAFT,
        "recruitment",
        80,
        employer.pk,
    )
    assert timezone.localtime(event.starts_at) == starts
    assert event.questions == [
        {"label": "意向岗位", "type": "choice", "required": True, "choices": ["工艺", "质量", "销售"]}
    ]
    expect(page.get_by_test_id("event-status")).to_be_visible()
    snap("event-11-organise-draft")

    page.locator(f"form[action='/events/organise/{event.pk}/submit/'] button").click()
    expect(page.locator(".message-success")).to_be_visible()
    event.refresh_from_db()
    assert event.status == EventStatus.PENDING
    snap("event-12-organise-pending")
