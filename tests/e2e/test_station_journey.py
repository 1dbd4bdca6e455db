"""A youth-station stay from booking to follow-up, in a real browser and in Chinese (issue 5,
"One browser journey"): a graduate from outside Luoyang with an interview invitation in the
jobs programme books two free nights, district staff check them in (after ticking that they saw
the ID card) and out, and the graduate answers the day-7 follow-up.

The data the journey starts from is made through the services (the organisation verified by
city staff, the position published, the application and the interview invitation), so the
station's "interview invitation" criterion reads what an employer really produced. Both people
sign in through the real sign-in page with their e-mail address and password, each in a
browser context of their own.

Time: staff can check a guest in only on a night of the stay, and the test cannot wait for
tomorrow, so the stay starts *today* (the interview is tomorrow, inside the stay ±1 day). The
follow-up is sent by the daily job 7 days after check-out: the test runs that job for that day
instead of waiting."""

import contextlib
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apartments import services as station_services
from apartments.constants import FollowUpOutcome, FollowUpStage, StayStatus
from apartments.models import FollowUp, Station, StationNight, Stay
from portal import services as portal_services
from portal.constants import DocumentKind
from tests.e2e.browser import interview_through_the_services, new_page, png, sign_in, snap_other, verified_email
from tests.portal.factories import DistrictStaffFactory, ProfileFactory

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters), which the flush after the test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRADUATE_EMAIL = "li.qinghe@example.com"
GRADUATE_PASSWORD = "Luoyang-2026-graduate"
GUEST_NAME = "李青禾"
STAFF_EMAIL = "luolong.station@example.com"
STAFF_PASSWORD = "Luoyang-2026-district"
EMPLOYER_NAME = "洛阳轴承集团有限公司"


# --- set-up through the services ---------------------------------------------------------------


@pytest.fixture
def graduate(luolong):
    """A bachelor in mechanical engineering from 郑州 (household registration outside Luoyang),
    graduated half a year ago, with a complete profile: consent, ID number, degree certificate."""
    today = timezone.localdate()
    profile = ProfileFactory(
        complete=True,
        real_name=GUEST_NAME,
        district=luolong,
        graduation_date=today - dt.timedelta(days=180),
        hukou_province="河南省",
        hukou_city="郑州市",
    )
    user = verified_email(profile.user, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    portal_services.document_upload(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    assert profile.is_from_outside_luoyang is True
    return user


@pytest.fixture
def interview(graduate, luolong):
    """An employer's published position, the graduate's application, and an interview
    invitation for tomorrow at 10:00, all through the jobs services."""
    return interview_through_the_services(
        graduate,
        luolong,
        employer_name=EMPLOYER_NAME,
        position={
            "title": "轴承工艺工程师",
            "description": "负责精密轴承生产工艺优化，参与新产品试制。",
            "headcount": 2,
            "salary_min": 6000,
            "salary_max": 9000,
        },
        on=timezone.localdate() + dt.timedelta(days=1),
    )


@pytest.fixture
def district_staff(luolong):
    return verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)


# --- helpers ----------------------------------------------------------------------------------------


def _nights(station: Station) -> dict[dt.date, int]:
    return dict(StationNight.objects.filter(station=station).values_list("date", "booked"))


# --- the journey -----------------------------------------------------------------------------------


def test_graduate_books_two_nights_staff_check_in_and_out_graduate_answers_follow_up(
    live_server,
    chromium,
    page: Page,
    snap,
    artifacts_dir,
    station,
    booking_today_allowed,
    graduate,
    interview,
    district_staff,
):
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)

    # --- 1. The graduate signs in and finds the station.
    page.goto(f"{live_server.url}/accounts/login/?next=/stations/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    sign_in(page, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    expect(page).to_have_url(re.compile(r"/stations/$"))
    expect(page.get_by_role("heading", level=1, name="青年驿站")).to_be_visible()
    snap("station-01-list")
    page.get_by_role("link", name=station.name).click()
    expect(page.get_by_role("heading", level=1, name=station.name)).to_be_visible()
    calendar = page.get_by_test_id("calendar")
    expect(calendar.locator(f"li[data-date='{today.isoformat()}']")).to_have_attribute("data-free", "3")

    # --- 2. Chooses tonight and two nights, checks the criteria: all met (✓).
    page.get_by_label("入住日期").fill(today.isoformat())
    page.get_by_label("入住晚数").fill("2")
    page.get_by_role("button", name="查询所选日期").click()
    criteria = page.get_by_test_id("criteria").locator("li")
    expect(criteria).to_have_count(6)
    for code in ("hukou", "graduation", "reason", "nights", "one_active_stay", "advance"):
        line = page.get_by_test_id("criteria").locator(f"li[data-code='{code}']")
        expect(line).to_have_attribute("data-passed", "yes")
        expect(line).to_contain_text("✓")
    expect(page.get_by_test_id("criteria")).to_contain_text("户籍：洛阳市以外")
    expect(page.get_by_test_id("criteria")).to_contain_text("已在本平台收到面试邀请")
    expect(page.get_by_test_id("criteria").locator("li.fail")).to_have_count(0)
    # The chosen values survive the round trip.
    expect(page.get_by_label("入住日期")).to_have_value(today.isoformat())
    expect(page.get_by_label("入住晚数")).to_have_value("2")
    snap("station-02-criteria")

    # --- 3. Books: lands on "My stays" with the stay booked.
    page.get_by_role("button", name="预订", exact=True).click()
    expect(page).to_have_url(re.compile(r"/stays/$"))
    expect(page.get_by_text("预订成功，入住时请携带身份证。")).to_be_visible()
    expect(page.get_by_test_id("stay-status")).to_have_text("已预订")
    snap("station-03-my-stays-booked")

    stay = Stay.objects.get(applicant=graduate)
    assert (stay.station_id, stay.check_in, stay.nights, stay.status) == (station.pk, today, 2, StayStatus.BOOKED)
    assert stay.interview_id == interview.pk
    assert stay.eligibility["eligible"] is True
    assert _nights(station) == {today: 1, tomorrow: 1}

    # --- 4. District staff sign in on their own browser and open today's board.
    staff_page = new_page(chromium)
    try:
        staff_page.goto(f"{live_server.url}/admin/apartments/stay/today/")
        sign_in(staff_page, STAFF_EMAIL, STAFF_PASSWORD)
        expect(staff_page).to_have_url(re.compile(r"/admin/apartments/stay/today/$"))
        arrivals = staff_page.locator("#board-arrivals")
        arrival = arrivals.locator("tbody tr").filter(has_text=GUEST_NAME)
        expect(arrival).to_have_count(1)
        expect(arrival).to_contain_text(station.name)
        expect(staff_page.locator("#board-stations tbody tr").filter(has_text=station.name)).to_contain_text("1 / 3")
        snap_other(staff_page, artifacts_dir, "station-04-staff-today-board")

        # --- 5. Check-in: the masked ID on the confirmation page; the ID box must be ticked.
        arrival.get_by_role("link", name="办理入住").click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/stay/{stay.pk}/check-in/"))
        id_masked = graduate.profile.id_number_masked
        expect(staff_page.get_by_text(id_masked)).to_be_visible()
        expect(staff_page.locator(".guest-card")).to_contain_text("轴承工艺工程师")
        submit = staff_page.locator("input[type=submit]")
        expect(submit).to_have_value("办理入住")
        snap_other(staff_page, artifacts_dir, "station-05-staff-check-in")
        # Submitting without the tick (the browser's own "required" check switched off, so the
        # server's is what is tested) keeps the guest waiting, with the field's error shown.
        id_seen = staff_page.get_by_label(re.compile("本人已查验入住人身份证"))
        expect(id_seen).not_to_be_checked()
        id_seen.evaluate("el => el.required = false")
        submit.click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/stay/{stay.pk}/check-in/"))
        expect(staff_page.locator("ul.errorlist")).to_be_visible()
        stay.refresh_from_db()
        assert stay.status == StayStatus.BOOKED
        staff_page.get_by_label(re.compile("本人已查验入住人身份证")).check()
        staff_page.locator("input[type=submit]").click()

        expect(staff_page).to_have_url(re.compile(r"/admin/apartments/stay/today/$"))
        expect(staff_page.get_by_text(f"{GUEST_NAME}已在{station.name}办理入住。")).to_be_visible()
        expect(staff_page.locator("#board-arrivals tbody tr").filter(has_text=GUEST_NAME)).to_have_count(0)
        expect(staff_page.locator("#board-in-house tbody tr").filter(has_text=GUEST_NAME)).to_have_count(1)
        snap_other(staff_page, artifacts_dir, "station-06-staff-checked-in")
        stay.refresh_from_db()
        assert stay.status == StayStatus.CHECKED_IN
        assert stay.checked_in_at is not None
        assert _nights(station) == {today: 1, tomorrow: 1}

        # The graduate sees it too.
        page.reload()
        expect(page.get_by_test_id("stay-status")).to_have_text("已入住")

        # --- 6. Check-out from the stay's page (the guest leaves early, after the first night).
        staff_page.locator("#board-in-house tbody tr").filter(has_text=GUEST_NAME).get_by_role(
            "link", name=GUEST_NAME
        ).click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/stay/{stay.pk}/change/"))
        snap_other(staff_page, artifacts_dir, "station-07-staff-stay-page")
        staff_page.get_by_role("link", name="办理退房").click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/stay/{stay.pk}/check-out/"))
        staff_page.locator("input[type=submit][value='办理退房']").click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/apartments/stay/{stay.pk}/change/"))
        expect(staff_page.get_by_text(f"{GUEST_NAME}已从{station.name}退房，跟踪回访已排期。")).to_be_visible()
        snap_other(staff_page, artifacts_dir, "station-08-staff-checked-out")
    except BaseException:
        # The ``page`` fixture keeps the graduate's page of a failed test; keep the staff's too.
        with contextlib.suppress(Exception):  # the page may be gone; the test's error is what matters
            staff_page.screenshot(path=artifacts_dir / "FAILED-station-journey-staff.png", full_page=True)
        raise
    finally:
        staff_page.context.close()

    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_OUT
    assert stay.checked_out_at is not None
    # Checked out on the check-in day: tonight stays counted, tomorrow's bed is free again and
    # the night goes back to the graduate's allowance.
    assert stay.nights_released == 1
    assert _nights(station) == {today: 1, tomorrow: 0}
    follow_ups = {f.stage: f for f in FollowUp.objects.filter(stay=stay)}
    assert {stage: f.due_on for stage, f in follow_ups.items()} == {
        FollowUpStage.DAY_7: today + dt.timedelta(days=7),
        FollowUpStage.DAY_30: today + dt.timedelta(days=30),
    }
    assert all(f.sent_at is None and not f.outcome for f in follow_ups.values())

    # Nothing to answer yet.
    page.reload()
    expect(page.get_by_test_id("stay-status")).to_have_text("已退房")
    expect(page.locator("form.follow-up")).to_have_count(0)

    # --- 7. Day 7: the daily job sends the questionnaire (run here for that day).
    assert station_services.follow_ups_run(today=today + dt.timedelta(days=7)) == {"sent": 1}
    day7 = FollowUp.objects.get(stay=stay, stage=FollowUpStage.DAY_7)
    assert day7.sent_at is not None and not day7.outcome

    page.reload()
    form = page.locator("form.follow-up")
    expect(form).to_have_count(1)
    expect(form.get_by_role("heading", level=3)).to_contain_text("退房后第7天")
    snap("station-09-follow-up")
    form.get_by_label("已在洛阳就业").check()
    form.get_by_label("就业单位（如已就业）").fill(EMPLOYER_NAME)
    form.get_by_role("button", name="提交答复").click()

    expect(page).to_have_url(re.compile(r"/stays/$"))
    expect(page.get_by_text("感谢您的答复。")).to_be_visible()
    expect(page.locator("form.follow-up")).to_have_count(0)
    snap("station-10-follow-up-answered")

    day7.refresh_from_db()
    assert day7.outcome == FollowUpOutcome.WORKING_IN_LUOYANG
    assert day7.employer == EMPLOYER_NAME
    assert day7.answered_by_id == graduate.pk
    assert day7.answered_at is not None and not day7.call_task_open
    day30 = FollowUp.objects.get(stay=stay, stage=FollowUpStage.DAY_30)
    assert day30.sent_at is None and not day30.outcome
