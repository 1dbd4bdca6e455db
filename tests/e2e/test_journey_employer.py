"""The employer's long journey, in a real browser and in Chinese (issue 8, "Proof as a whole"):
the HR manager of a robot maker signs up with a mobile number, registers the organisation with
its unified social credit code and uploads the business licence; once district staff have
verified it, posts a traineeship (见习岗位) and submits it for review; once it is published
and a graduate has applied, invites the graduate to an interview, makes an offer and confirms
the hire; and, the organisation being a designated traineeship base, files this month's
traineeship living-subsidy claim (见习生活补贴) for the trainee.

Every step the employer takes is typed and clicked in the browser. What others do is made
through the services, in the order it would happen: district staff verify the organisation
and approve the position (the staff journey does both in the admin), the graduate applies
(the graduate's journey does that in its browser), and staff designate the organisation a
traineeship base (见习基地). The claim's eligibility check runs in Celery after the commit;
the test settings run tasks eagerly, so "My subsidies" shows the result as it loads."""

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from jobs import services as jobs_services
from jobs.constants import ApplicationStatus, PositionKind, PositionStatus
from jobs.models import Interview, JobApplication, Position
from portal import services as portal_services
from portal.constants import DocumentKind, MemberRole, OrganisationStatus, Role
from portal.models import Organisation, User
from subsidies.constants import SubsidyStatus
from subsidies.models import SubsidyApplication
from tests.e2e.browser import by_label, png, shot, sign_up_by_phone
from tests.portal.factories import DistrictStaffFactory, ProfileFactory, make_credit_code, make_id_number
from tests.privacy_scan import assert_no_plaintext

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters, programmes), which the flush removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MOBILE = "13703791266"
PASSWORD = "Luoyang-2026-employer"
ORG_NAME = "洛阳智造机器人有限公司"
CONTACT = "陈思远"
POSITION_TITLE = "工业机器人调试见习生"
TRAINEE_NAME = "韩知远"
TRAINEE_ID_NUMBER = make_id_number(born=dt.date(2003, 1, 21))
PROGRAMME_CODE = "traineeship-living"
PROGRAMME_NAME = "见习生活补贴"


def _name(step: str) -> str:
    return f"journey-employer-{step}"


@pytest.fixture
def district_staff(luolong):
    return DistrictStaffFactory(districts=[luolong])


@pytest.fixture
def trainee(luolong):
    """A bachelor with a complete profile (degree certificate uploaded), who will apply to the
    traineeship."""
    profile = ProfileFactory(
        complete=True,
        real_name=TRAINEE_NAME,
        district=luolong,
        graduation_date=timezone.localdate() - dt.timedelta(days=150),
        id_number=TRAINEE_ID_NUMBER,
    )
    portal_services.document_upload(owner=profile.user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    return profile.user


def test_employer_registers_is_verified_posts_a_traineeship_hires_and_claims_the_living_subsidy(
    live_server, page: Page, artifacts_dir, luolong, district_staff, trainee
):
    today = timezone.localdate()
    credit_code = make_credit_code()
    menu = page.get_by_role("navigation", name="主菜单")

    # --- 1. Signs up with the mobile number (SMS code), then opens 用人单位 in the menu.
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    sign_up_by_phone(page, MOBILE, PASSWORD)
    employer = User.objects.get(phone__endswith=MOBILE)
    menu.get_by_role("link", name="用人单位", exact=True).click()
    expect(page).to_have_url(re.compile(r"/jobs/employer/$"))
    expect(page.get_by_role("heading", level=1, name="用人单位工作台")).to_be_visible()
    shot(page, artifacts_dir, _name("01-dashboard-empty"))

    # --- 2. Registers the organisation.
    page.get_by_role("main").get_by_role("link", name="注册用人单位").click()
    expect(page).to_have_url(re.compile(r"/organisations/new/$"))
    name = by_label(page, "id_name")
    name.fill(ORG_NAME)
    by_label(page, "id_credit_code").fill(credit_code)
    by_label(page, "id_kind").select_option("private")
    by_label(page, "id_district").select_option(label="洛龙区")
    by_label(page, "id_industry").select_option("robots")
    by_label(page, "id_size").select_option("medium")
    by_label(page, "id_address").fill("洛阳市洛龙区关林路 66 号")
    by_label(page, "id_contact_name").fill(CONTACT)
    by_label(page, "id_contact_phone").fill("0379-65123456")
    by_label(page, "id_contact_email").fill("hr@zhizao-robot.example.com")
    by_label(page, "id_description").fill("工业机器人系统集成与智能产线研发。")
    shot(page, artifacts_dir, _name("02-register-organisation"), phone=True)
    page.locator("form").filter(has=name).locator("[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/organisations/\d+/$"))
    expect(page.get_by_role("heading", level=1, name=ORG_NAME)).to_be_visible()
    expect(page.get_by_test_id("org-status")).to_have_text("待审核")
    organisation = Organisation.objects.get(credit_code=credit_code)
    assert organisation.status == OrganisationStatus.PENDING
    assert organisation.memberships.get().user_id == employer.pk
    employer.refresh_from_db()
    assert employer.role == Role.EMPLOYER

    # The business licence, to speed up verification.
    kind = by_label(page, "id_document_kind")
    kind.select_option(DocumentKind.BUSINESS_LICENCE)
    by_label(page, "id_document_file").set_input_files(
        files=[{"name": "business-licence.png", "mimeType": "image/png", "buffer": png("x.png").read()}]
    )
    page.locator("form").filter(has=kind).locator("[type=submit]").click()
    expect(page.locator(".message-success")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("link", name="营业执照")).to_be_visible()
    shot(page, artifacts_dir, _name("03-organisation-pending"), phone=True)

    # --- 3. District staff verify it (the staff journey does this in the admin); the employer
    # sees it verified and the button to post positions.
    portal_services.organisation_verify(organisation=organisation, actor=district_staff)
    menu.get_by_role("link", name="用人单位", exact=True).click()
    block = page.get_by_role("main").locator("section.card").filter(has_text=ORG_NAME)
    expect(block.locator(f".status-{OrganisationStatus.VERIFIED}")).to_be_visible()
    shot(page, artifacts_dir, _name("04-dashboard-verified"))

    # --- 4. Posts a traineeship and submits it for review.
    block.get_by_role("link", name="发布岗位").click()
    expect(page).to_have_url(re.compile(rf"/jobs/employer/organisations/{organisation.pk}/positions/new/$"))
    by_label(page, "id_kind").select_option(PositionKind.TRAINEESHIP)
    by_label(page, "id_title").fill(POSITION_TITLE)
    by_label(page, "id_description").fill("在工程师指导下参与六轴工业机器人的安装调试，见习期6个月。")
    expect(by_label(page, "id_district").locator("option:checked")).to_have_text("洛龙区")
    by_label(page, "id_education_level").select_option("bachelor")
    by_label(page, "id_majors").fill("机械电子工程、自动化")
    by_label(page, "id_headcount").fill("3")
    by_label(page, "id_salary_min").fill("2500")
    by_label(page, "id_salary_max").fill("3000")
    by_label(page, "id_deadline").fill((today + dt.timedelta(days=30)).isoformat())
    shot(page, artifacts_dir, _name("05-post-traineeship"), phone=True)
    page.get_by_role("button", name="保存草稿").click()
    expect(page).to_have_url(re.compile(r"/jobs/employer/positions/\d+/$"))
    expect(page.get_by_test_id("position-status")).to_have_text("草稿")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_test_id("position-status")).to_have_text("待审核")
    shot(page, artifacts_dir, _name("06-traineeship-pending"))
    position = Position.objects.get(organisation=organisation)
    assert (position.kind, position.status, position.created_by_id) == (
        PositionKind.TRAINEESHIP,
        PositionStatus.PENDING,
        employer.pk,
    )

    # --- 5. Staff approve it (the staff journey moderates in the admin); a graduate applies
    # (the graduate's journey applies in its browser).
    jobs_services.position_approve(position=position, actor=district_staff)
    application = jobs_services.job_application_submit(
        position=position, applicant=trainee, cover_note="希望参加机器人调试见习。"
    )

    # --- 6. The employer opens the applicant from the position and invites them to an interview.
    page.reload()
    expect(page.get_by_test_id("position-status")).to_have_text("已发布")
    applicants = page.get_by_role("table")
    row = applicants.locator("tbody tr").filter(has_text=TRAINEE_NAME)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(trainee.profile.id_number_masked)
    shot(page, artifacts_dir, _name("07-applicants"), phone=True)
    row.get_by_role("link", name=TRAINEE_NAME).click()
    expect(page).to_have_url(re.compile(rf"/jobs/employer/applications/{application.pk}/$"))
    expect(page.get_by_test_id("application-status")).to_have_text("用人单位已查看")
    interview_at = timezone.localtime(timezone.now() + dt.timedelta(days=3)).replace(
        hour=14, minute=30, second=0, microsecond=0
    )
    invite = page.locator("form").filter(has=page.locator("input[name=form][value=interview]"))
    by_label(page, "id_starts_at").fill(interview_at.strftime("%Y-%m-%dT%H:%M"))
    by_label(page, "id_place").fill("洛阳市洛龙区关林路 66 号 2 号楼会议室")
    by_label(page, "id_note").fill("请携带身份证和学位证书原件。")
    shot(page, artifacts_dir, _name("08-invite"), phone=True)
    invite.get_by_role("button", name="发送邀请").click()
    expect(page.locator(".message-success")).to_be_visible()
    expect(page.get_by_test_id("application-status")).to_have_text("已邀请面试")
    interview = Interview.objects.get(application=application)
    assert timezone.localtime(interview.starts_at) == interview_at

    # --- 7. After the interview: an offer, then the hire.
    decision = page.locator("form").filter(has=page.locator("input[name=form][value=decision]"))
    by_label(page, "id_decision").select_option(ApplicationStatus.OFFERED)
    decision.get_by_role("button", name="保存决定").click()
    expect(page.get_by_test_id("application-status")).to_have_text("已发录用通知")
    by_label(page, "id_decision").select_option(ApplicationStatus.HIRED)
    decision.get_by_role("button", name="保存决定").click()
    expect(page.get_by_test_id("application-status")).to_have_text("已录用")
    shot(page, artifacts_dir, _name("09-hired"), phone=True)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.HIRED and application.hired_on == today

    # --- 8. Staff designate the organisation a traineeship base (见习基地); the employer claims
    # this month's living subsidy for the trainee.
    jobs_services.traineeship_base_designate(organisation=organisation, actor=district_staff)
    menu.get_by_role("link", name="补贴政策", exact=True).click()
    expect(page).to_have_url(re.compile(r"/subsidies/$"))
    page.locator(f"article[data-programme='{PROGRAMME_CODE}']").get_by_role(
        "link", name=f"申领条件与金额：{PROGRAMME_NAME}"
    ).click()
    expect(page.get_by_role("heading", level=1, name=PROGRAMME_NAME)).to_be_visible()
    page.get_by_test_id("apply").click()
    expect(page).to_have_url(re.compile(rf"/subsidies/{PROGRAMME_CODE}/apply/"))
    trainee_choice = by_label(page, "id_job_application")
    expect(trainee_choice.locator("option:checked")).to_contain_text(TRAINEE_NAME)
    expect(by_label(page, "id_period_start")).to_have_value(f"{today:%Y-%m}")
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility.get_by_test_id("criteria").locator("li.fail")).to_have_count(0)
    expect(eligibility.get_by_test_id("amount")).to_be_visible()
    shot(page, artifacts_dir, _name("10-claim"), phone=True)
    page.get_by_role("button", name="提交申领").click()

    expect(page).to_have_url(re.compile(r"/subsidies/mine/$"))
    claim = SubsidyApplication.objects.get(organisation=organisation)
    card = page.locator(f"article[data-application='{claim.pk}']")
    expect(card.get_by_test_id("application-status")).to_have_text("核查通过")
    expect(card).to_contain_text(TRAINEE_NAME)
    shot(page, artifacts_dir, _name("11-claim-checked"), phone=True)

    claim.refresh_from_db()
    assert claim.status == SubsidyStatus.ELIGIBLE
    assert (claim.programme.code, claim.applicant_id, claim.beneficiary_id) == (
        PROGRAMME_CODE,
        employer.pk,
        trainee.pk,
    )
    assert claim.job_application_id == application.pk
    assert claim.period_start == today.replace(day=1)
    assert claim.amount > 0
    assert organisation.memberships.get().role == MemberRole.OWNER
    assert JobApplication.objects.get(pk=application.pk).status == ApplicationStatus.HIRED

    # --- The trainee's ID number is nowhere in the database or the logs in clear.
    assert_no_plaintext([TRAINEE_ID_NUMBER])
