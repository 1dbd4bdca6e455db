"""The graduate's long journey, in a real browser and in Chinese (issue 8, "Proof as a whole"):
a graduate from 郑州 signs up with a mobile number, confirms it with the SMS code, completes the
profile (details, degree certificate, consent), searches the jobs, applies to a position,
gets an interview invitation for tomorrow, books two nights at a youth station from tonight,
applies for the interview travel subsidy and registers for a recruitment fair.

Every step the graduate takes is typed and clicked in the browser. What others do is made
through the services: the employer verified and its position published before the journey
starts, the employer's interview invitation after the graduate applied (the employer's own
journey does that in its browser), the station, the fair and the subsidy programmes (from the
data migrations).

Time: staff can check a guest in only on a night of the stay, so the stay starts today; the
district's ``stations-booking-min-hours`` is set so that a booking for today is allowed at any
hour the test runs (see ``booking_today_allowed``). The subsidy's eligibility check runs in
Celery after the transaction commits; the test settings run tasks eagerly, so "My subsidies"
shows the result as it loads."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apartments.constants import StayStatus
from apartments.models import Stay
from events import services as event_services
from events.constants import EventKind, RegistrationStatus
from events.models import Registration
from jobs import services as jobs_services
from jobs.constants import ApplicationStatus
from jobs.models import JobApplication
from portal.constants import DocumentKind
from portal.models import ApplicantProfile, User
from subsidies.constants import SubsidyStatus
from subsidies.models import SubsidyApplication
from tests.e2e.browser import by_label, label_text, published_position_through_the_services, shot, sign_up_by_phone
from tests.portal.factories import DistrictStaffFactory, make_id_number
from tests.privacy_scan import assert_no_plaintext

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters, programmes), which the flush removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MOBILE = "13938561204"
PASSWORD = "Luoyang-2026-graduate"
NAME = "孙嘉禾"
EMPLOYER_NAME = "洛阳轴承集团有限公司"
POSITION_TITLE = "精密轴承工艺工程师"
STATION_NAME = "洛龙青年驿站"
EVENT_TITLE = "2026 洛龙区高校毕业生秋季招聘会"
PROGRAMME_CODE = "interview-travel"
PROGRAMME_NAME = "面试路费补贴"


def _name(step: str) -> str:
    return f"journey-graduate-{step}"


# --- what others made before the journey ----------------------------------------------------


@pytest.fixture
def position(luolong):
    """A bearing maker verified by city staff, its job published: what the graduate finds."""
    return published_position_through_the_services(
        luolong,
        employer_name=EMPLOYER_NAME,
        position={
            "title": POSITION_TITLE,
            "description": "负责精密轴承生产工艺优化，参与新产品试制。",
            "headcount": 2,
            "salary_min": 6000,
            "salary_max": 9000,
        },
    )


@pytest.fixture
def fair(luolong):
    """A published recruitment fair in 洛龙区 next week, for graduates aged 18–35."""
    staff = DistrictStaffFactory(districts=[luolong])
    now = timezone.now().replace(second=0, microsecond=0)
    starts = timezone.localtime(now + dt.timedelta(days=6)).replace(hour=9, minute=30)
    event = event_services.event_create(
        actor=staff,
        data={
            "kind": EventKind.RECRUITMENT,
            "title": EVENT_TITLE,
            "description": "三十家装备制造与软件企业现场招聘，欢迎应届毕业生参加。",
            "district": luolong,
            "place": "洛阳市洛龙区开元大道 200 号青年之家",
            "starts_at": starts,
            "ends_at": starts + dt.timedelta(hours=3),
            "capacity": 200,
            "registration_opens": now - dt.timedelta(hours=1),
            "registration_closes": starts - dt.timedelta(hours=2),
            "min_age": 18,
            "max_age": 35,
            "graduates_only": True,
            "questions": [],
        },
    )
    event_services.event_publish(event=event, actor=staff)
    return event


# --- the journey -----------------------------------------------------------------------------------


def test_graduate_signs_up_applies_is_invited_books_a_station_claims_travel_and_registers_for_a_fair(
    live_server, page: Page, artifacts_dir, position, station, booking_today_allowed, fair
):
    today = timezone.localdate()
    tomorrow = today + dt.timedelta(days=1)
    graduated = today - dt.timedelta(days=150)
    id_number = make_id_number(born=dt.date(2002, 3, 9))
    menu = page.get_by_role("navigation", name="主菜单")

    # --- 1. The home page, in Chinese; sign-up with the mobile number and the SMS code.
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    shot(page, artifacts_dir, _name("01-home"), phone=True)
    sign_up_by_phone(
        page, MOBILE, PASSWORD, before_submit=lambda: shot(page, artifacts_dir, _name("02-signup"), phone=True)
    )
    user = User.objects.get(phone__endswith=MOBILE)
    assert user.phone_verified
    completeness = page.get_by_test_id("completeness")
    expect(completeness).not_to_have_text("100%")
    shot(page, artifacts_dir, _name("03-profile-empty"))

    # --- 2. The profile: details, the degree certificate, the consent; 100%.
    real_name = by_label(page, "id_real_name")
    real_name.fill(NAME)
    by_label(page, "id_id_number").fill(id_number)
    by_label(page, "id_phone").fill(MOBILE)
    by_label(page, "id_education_level").select_option("bachelor")
    by_label(page, "id_school").fill("郑州大学")
    by_label(page, "id_major").fill("机械设计制造及其自动化")
    by_label(page, "id_graduation_date").fill(graduated.isoformat())
    by_label(page, "id_hukou_province").fill("河南省")
    by_label(page, "id_hukou_city").fill("郑州市")
    by_label(page, "id_district").select_option(label="洛龙区")
    page.locator("form").filter(has=real_name).locator("[type=submit]").click()
    expect(page.get_by_text(f"{id_number[:4]}**********{id_number[-4:]}").first).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)

    kind = by_label(page, "id_kind")
    kind.select_option(DocumentKind.DEGREE_CERTIFICATE)
    by_label(page, "id_file").set_input_files(
        files=[{"name": "degree-certificate.png", "mimeType": "image/png", "buffer": _png_bytes()}]
    )
    page.locator("form").filter(has=kind).locator("[type=submit]").click()
    expect(page.get_by_role("link", name="degree-certificate.png")).to_be_visible()

    agree = by_label(page, "id_agree")
    agree.check()
    page.locator("form").filter(has=agree).locator("[type=submit]").click()
    expect(completeness).to_have_text("100%")
    shot(page, artifacts_dir, _name("04-profile-complete"), phone=True)
    profile = ApplicantProfile.objects.get(user=user)
    assert (profile.real_name, profile.birth_date, profile.is_from_outside_luoyang) == (
        NAME,
        dt.date(2002, 3, 9),
        True,
    )

    # --- 3. Searches the jobs by a keyword and the district; opens the position.
    menu.get_by_role("link", name="就业岗位", exact=True).click()
    expect(page).to_have_url(re.compile(r"/jobs/$"))
    search = page.get_by_role("search")
    search.get_by_label(label_text("关键词")).fill("轴承")
    search.get_by_label(label_text("区县")).select_option(label="洛龙区")
    search.get_by_role("button", name="搜索").click()
    expect(page).to_have_url(re.compile(r"/jobs/\?.*q=%E8%BD%B4%E6%89%BF"))
    card = page.locator("article.position-card").filter(has_text=POSITION_TITLE)
    expect(card).to_have_count(1)
    expect(card).to_contain_text(EMPLOYER_NAME)
    expect(card).to_contain_text("6000–9000")
    shot(page, artifacts_dir, _name("05-job-search"), phone=True)
    card.get_by_role("link", name=POSITION_TITLE).click()
    expect(page.get_by_role("heading", level=1, name=POSITION_TITLE)).to_be_visible()

    # --- 4. Applies with the profile, sharing the degree certificate.
    apply = page.locator(f"form[action='/jobs/{position.pk}/apply/']")
    expect(page.locator("ul.criteria li.fail")).to_have_count(0)
    by_label(page, "id_cover_note").fill("机械专业应届毕业生，希望来洛阳从事轴承工艺工作。")
    apply.get_by_role("group", name=re.compile(r"^向用人单位提供的材料")).get_by_label(re.compile(r"学位证书")).check()
    shot(page, artifacts_dir, _name("06-position-apply"))
    apply.get_by_role("button", name="使用个人资料申请").click()
    expect(page).to_have_url(re.compile(r"/jobs/applications/$"))
    expect(page.get_by_role("heading", level=1, name="我的求职申请")).to_be_visible()
    application = JobApplication.objects.get(applicant=user)
    assert application.position_id == position.pk and application.status == ApplicationStatus.SUBMITTED
    assert [d.kind for d in application.shared_documents.all()] == [DocumentKind.DEGREE_CERTIFICATE]
    mine = page.locator("article.card").filter(has_text=POSITION_TITLE)
    shot(page, artifacts_dir, _name("07-applied"))

    # --- 5. The employer invites the graduate to an interview tomorrow at 10:00 (the employer's
    # journey does this in its browser); the graduate sees it on "My applications" and in
    # the messages.
    employer = position.organisation.memberships.get().user
    interview_at = timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(10)))
    jobs_services.job_application_invite(
        application=application, actor=employer, starts_at=interview_at, place="洛阳市洛龙区开元大道 1 号 3 楼"
    )
    page.reload()
    expect(mine.locator("strong.status")).to_have_text("已邀请面试")
    expect(mine.locator("p.notice")).to_contain_text(f"{tomorrow:%Y-%m-%d} 10:00")
    shot(page, artifacts_dir, _name("08-interview-invitation"), phone=True)
    menu.get_by_role("link", name=re.compile(r"^\s*消息")).click()
    expect(page.get_by_role("heading", level=1, name="消息")).to_be_visible()
    expect(page.locator("article.notification").filter(has_text=POSITION_TITLE).first).to_be_visible()
    shot(page, artifacts_dir, _name("09-messages"))

    # --- 6. Books the youth station from tonight, two nights: every criterion met.
    menu.get_by_role("link", name="青年驿站", exact=True).click()
    expect(page).to_have_url(re.compile(r"/stations/$"))
    page.get_by_role("link", name=STATION_NAME).click()
    expect(page.get_by_role("heading", level=1, name=STATION_NAME)).to_be_visible()
    page.get_by_label("入住日期").fill(today.isoformat())
    page.get_by_label("入住晚数").fill("2")
    page.get_by_role("button", name="查询所选日期").click()
    criteria = page.get_by_test_id("criteria")
    expect(criteria.locator("li")).to_have_count(6)
    expect(criteria.locator("li.fail")).to_have_count(0)
    expect(criteria).to_contain_text("户籍：洛阳市以外")
    expect(criteria).to_contain_text("已在本平台收到面试邀请")
    shot(page, artifacts_dir, _name("10-station-criteria"), phone=True)
    page.get_by_role("button", name="预订", exact=True).click()
    expect(page).to_have_url(re.compile(r"/stays/$"))
    expect(page.get_by_test_id("stay-status")).to_have_text("已预订")
    shot(page, artifacts_dir, _name("11-stay-booked"))
    stay = Stay.objects.get(applicant=user)
    assert (stay.station_id, stay.check_in, stay.nights, stay.status) == (station.pk, today, 2, StayStatus.BOOKED)

    # --- 7. The interview travel subsidy: every criterion met, 500 CNY; applies.
    menu.get_by_role("link", name="补贴政策", exact=True).click()
    expect(page).to_have_url(re.compile(r"/subsidies/$"))
    programme_card = page.locator(f"article[data-programme='{PROGRAMME_CODE}']")
    programme_card.get_by_role("link", name=f"申领条件与金额：{PROGRAMME_NAME}").click()
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility.get_by_test_id("criteria").locator("li.fail")).to_have_count(0)
    expect(eligibility.get_by_test_id("verdict")).to_have_attribute("data-eligible", "yes")
    expect(eligibility.get_by_test_id("amount")).to_have_text("金额：500.00元")
    shot(page, artifacts_dir, _name("12-subsidy-programme"))
    eligibility.get_by_role("link", name="申请该补贴").click()
    expect(page).to_have_url(re.compile(rf"/subsidies/{PROGRAMME_CODE}/apply/$"))
    page.get_by_role("group", name="证明材料").get_by_label(re.compile(r"^学位证书")).check()
    shot(page, artifacts_dir, _name("13-subsidy-apply"), phone=True)
    page.get_by_role("button", name="提交申请").click()
    expect(page).to_have_url(re.compile(r"/subsidies/mine/$"))
    subsidy = SubsidyApplication.objects.get(applicant=user)
    card = page.locator(f"article[data-application='{subsidy.pk}']")
    expect(card.get_by_test_id("application-status")).to_have_text("核查通过")
    expect(card.get_by_test_id("application-amount")).to_have_text("500.00元")
    shot(page, artifacts_dir, _name("14-subsidy-mine"))
    subsidy.refresh_from_db()
    assert subsidy.status == SubsidyStatus.ELIGIBLE and subsidy.programme.code == PROGRAMME_CODE

    # --- 8. Registers for the recruitment fair: a ticket with its code.
    menu.get_by_role("link", name="青年活动", exact=True).click()
    expect(page).to_have_url(re.compile(r"/events/$"))
    page.locator("article.event-card").filter(has_text=EVENT_TITLE).get_by_role("link", name=EVENT_TITLE).click()
    expect(page.get_by_role("heading", level=1, name=EVENT_TITLE)).to_be_visible()
    expect(page.locator("ul.criteria li.fail")).to_have_count(0)
    shot(page, artifacts_dir, _name("15-event"), phone=True)
    page.locator(f"form[action='/events/{fair.pk}/register/']").get_by_role("button", name="我要报名").click()
    expect(page).to_have_url(re.compile(r"/events/mine/$"))
    registration = Registration.objects.get(user=user, event=fair)
    assert registration.status == RegistrationStatus.CONFIRMED
    ticket = page.locator("article.card").filter(has_text=EVENT_TITLE)
    expect(ticket.get_by_test_id("ticket-code")).to_have_text(registration.check_in_code)
    shot(page, artifacts_dir, _name("16-event-ticket"), phone=True)

    # --- The ID number typed on the profile is nowhere in the database or the logs in clear.
    assert_no_plaintext([id_number])


def _png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", (320, 220), "white")
    for x in range(20, 300):
        image.putpixel((x, 40), (164, 22, 26))
    image.save(buffer, format="PNG")
    return buffer.getvalue()
