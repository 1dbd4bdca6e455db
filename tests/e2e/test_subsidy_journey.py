"""The interview travel subsidy from the criteria to the payment, in a real browser and in
Chinese ("One browser journey: a graduate with an interview invitation sees "eligible" with
reasons, applies, staff approve, notice passes, payment recorded"): a graduate from 郑州 with
an interview invitation in the jobs programme finds 补贴政策 in the menu, opens 面试路费补贴 and
sees every criterion met (✓ with its reason) and the amount of 500 CNY, applies, and finds the
application checked as eligible on 我的补贴; 洛龙区 staff open it in the staff admin, start the
review and approve it, which starts the public notice (公示); the graduate finds it on the
notice board under a masked name; after the notice the application is payable, staff record
the payment with the bank reference, the payout ledger (资金台账) shows it paid, and the
graduate sees 已支付 on 我的补贴.

The data the journey starts from is made through the services (the employer verified by city
staff, its position published, the graduate's application and the interview invitation), so
the "invited by an employer" criterion reads what an employer really produced; the graduate's
complete profile has the degree certificate uploaded through the portal's upload service. Both
people sign in through the real sign-in page with their e-mail address and password, each in a
browser context of their own. 500 CNY is below the second-approval limit (10,000 CNY), so one
staff member's approval starts the notice.

The eligibility check: sending the application queues the Celery check after the transaction
commits (``transaction.on_commit``). The test settings run tasks eagerly
(``CELERY_TASK_ALWAYS_EAGER``) and the live server commits for real, so the check runs inside
the submitting request, before its redirect: 我的补贴 shows the result as it loads.

Time: the public notice runs 5 days (``subsidy-notice-days``), and the test cannot wait. In
production Celery beat runs ``subsidy_notices_close`` every morning; the test runs the same
service for the day after the notice ends instead."""

import contextlib
import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from portal import services as portal_services
from portal.constants import DocumentKind
from subsidies import services as subsidy_services
from subsidies.constants import SubsidyStatus
from subsidies.models import EligibilityCheck, LedgerEntry, Programme, SubsidyApplication
from tests.e2e.browser import interview_through_the_services, new_page, png, sign_in, snap_other, verified_email
from tests.portal.factories import DistrictStaffFactory, ProfileFactory

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts, policy parameters, the programmes), which the flush after
# the test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

GRADUATE_EMAIL = "zhou.liyan@example.com"
GRADUATE_PASSWORD = "Luoyang-2026-graduate"
GRADUATE_NAME = "周立言"
GRADUATE_MASKED = "周**"
STAFF_EMAIL = "luolong.subsidies@example.com"
STAFF_PASSWORD = "Luoyang-2026-district"
EMPLOYER_NAME = "中信重工机械股份有限公司"
PROGRAMME_CODE = "interview-travel"
PROGRAMME_NAME = "面试路费补贴"
PAYMENT_REFERENCE = "LYCZ-2026-000517"


# --- set-up through the services ---------------------------------------------------------------


@pytest.fixture
def graduate(luolong):
    """A bachelor in mechanical engineering from 郑州 (household registration outside Luoyang),
    graduated half a year ago, with a complete profile: consent, ID number, degree certificate."""
    profile = ProfileFactory(
        complete=True,
        real_name=GRADUATE_NAME,
        district=luolong,
        graduation_date=timezone.localdate() - dt.timedelta(days=180),
        hukou_province="河南省",
        hukou_city="郑州市",
    )
    user = verified_email(profile.user, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    portal_services.document_upload(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=png("degree.png"))
    assert profile.is_from_outside_luoyang is True
    return user


@pytest.fixture
def interview(graduate, luolong):
    """An employer verified by city staff, its published position, the graduate's application
    and an interview invitation for next week, all through the jobs services."""
    return interview_through_the_services(
        graduate,
        luolong,
        employer_name=EMPLOYER_NAME,
        position={
            "title": "矿山装备设计工程师",
            "description": "负责大型矿山装备的结构设计与工艺改进。",
            "headcount": 3,
            "salary_min": 6500,
            "salary_max": 9500,
        },
        on=timezone.localdate() + dt.timedelta(days=7),
    )


@pytest.fixture
def district_staff(luolong):
    return verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)


# --- the journey -----------------------------------------------------------------------------------


def test_graduate_with_interview_applies_staff_approve_notice_passes_payment_recorded(
    live_server,
    chromium,
    page: Page,
    snap,
    artifacts_dir,
    graduate,
    interview,
    district_staff,
):
    programme = Programme.objects.get(code=PROGRAMME_CODE)
    assert programme.name_zh == PROGRAMME_NAME

    # --- 1. The graduate signs in and opens 补贴政策 from the menu.
    page.goto(f"{live_server.url}/accounts/login/?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    sign_in(page, GRADUATE_EMAIL, GRADUATE_PASSWORD)
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="补贴政策", exact=True).click()
    expect(page).to_have_url(re.compile(r"/subsidies/$"))
    expect(page.get_by_role("heading", level=1, name="补贴政策")).to_be_visible()
    card = page.locator(f"article[data-programme='{PROGRAMME_CODE}']")
    expect(card.get_by_role("heading", level=3)).to_contain_text(PROGRAMME_NAME)
    snap("subsidy-01-programmes")

    # --- 2. The programme page: every criterion met (✓) with its reason, and the amount.
    card.get_by_role("link", name=f"申领条件与金额：{PROGRAMME_NAME}").click()
    expect(page).to_have_url(re.compile(rf"/subsidies/{PROGRAMME_CODE}/$"))
    expect(page.get_by_role("heading", level=1, name=PROGRAMME_NAME)).to_be_visible()
    eligibility = page.get_by_test_id("eligibility")
    expect(eligibility.get_by_role("heading", level=2, name="我能申请吗？")).to_be_visible()
    criteria = eligibility.get_by_test_id("criteria")
    expect(criteria.locator("li")).to_have_count(5)
    for code in ("profile", "hukou", "graduation", "interview", "once"):
        line = criteria.locator(f"li[data-code='{code}']")
        expect(line).to_have_attribute("data-passed", "yes")
        expect(line).to_contain_text("✓")
    # The reasons: household registration outside Luoyang, graduated within 2 years, invited.
    expect(criteria.locator("li[data-code='hukou']")).to_contain_text("户籍：洛阳市以外")
    expect(criteria.locator("li[data-code='graduation']")).to_contain_text(re.compile(r"毕业时间：.+，毕业2年内"))
    expect(criteria.locator("li[data-code='interview']")).to_contain_text(
        f"面试：已在本平台收到{EMPLOYER_NAME}的面试邀请"
    )
    expect(criteria.locator("li[data-code='profile']")).to_contain_text("个人资料：已完善")
    expect(criteria.locator("li.fail")).to_have_count(0)
    verdict = eligibility.get_by_test_id("verdict")
    expect(verdict).to_have_attribute("data-eligible", "yes")
    expect(verdict).to_contain_text("符合全部条件。")
    expect(verdict.get_by_test_id("amount")).to_have_text("金额：500.00元")
    snap("subsidy-02-programme")

    # --- 3. Applies: the apply page repeats the criteria; the degree certificate goes with it.
    eligibility.get_by_role("link", name="申请该补贴").click()
    expect(page).to_have_url(re.compile(rf"/subsidies/{PROGRAMME_CODE}/apply/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"申请：{PROGRAMME_NAME}")
    expect(page.get_by_test_id("criteria").locator("li.fail")).to_have_count(0)
    expect(page.get_by_test_id("amount")).to_have_text("金额：500.00元")
    page.get_by_role("group", name="证明材料").get_by_label(re.compile(r"^学位证书")).check()
    snap("subsidy-03-apply")
    page.get_by_role("button", name="提交申请").click()

    # --- 4. 我的补贴: checked as eligible (the eager check ran before the redirect).
    expect(page).to_have_url(re.compile(r"/subsidies/mine/$"))
    expect(page.get_by_role("heading", level=1, name="我的补贴")).to_be_visible()
    application = SubsidyApplication.objects.get(applicant=graduate)
    expect(page.locator(".message-success")).to_have_text(
        f"您的申请{application.reference}已提交，正在进行资格核查，结果稍后将显示在下方。"
    )
    mine = page.locator(f"article[data-application='{application.pk}']")
    expect(mine.get_by_role("heading", level=3)).to_contain_text(PROGRAMME_NAME)
    expect(mine).to_contain_text(f"申请编号{application.reference}")
    expect(mine.get_by_test_id("application-status")).to_have_text("核查通过")
    expect(mine.get_by_test_id("application-amount")).to_have_text("500.00元")
    last_check = mine.locator("details.last-check")
    # (The summary joins its label with an ASCII ": "; either colon is accepted here.)
    expect(last_check.locator("summary")).to_have_text(re.compile(r"^最近一次核查\s*[:：]\s*符合全部条件$"))
    last_check.locator("summary").click()
    expect(last_check.get_by_test_id("criteria").locator("li.ok")).to_have_count(5)
    snap("subsidy-04-mine-eligible")
    application.refresh_from_db()
    assert application.status == SubsidyStatus.ELIGIBLE
    assert [d.kind for d in application.documents.all()] == [DocumentKind.DEGREE_CERTIFICATE]

    # --- 5. District staff sign in to the staff admin in their own browser.
    staff_page = new_page(chromium)
    try:
        staff_page.goto(f"{live_server.url}/admin/")
        sign_in(staff_page, STAFF_EMAIL, STAFF_PASSWORD)
        expect(staff_page).to_have_url(re.compile(r"/admin/$"))
        staff_page.locator("#content-main").get_by_role("link", name="补贴申请", exact=True).click()
        expect(staff_page).to_have_url(re.compile(r"/admin/subsidies/subsidyapplication/"))
        row = staff_page.locator("#result_list tbody tr").filter(has_text=application.reference)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(PROGRAMME_NAME)
        expect(row).to_contain_text(GRADUATE_MASKED)  # masked in the list
        expect(row).not_to_contain_text(GRADUATE_NAME)
        expect(row).to_contain_text("500.00")
        expect(row).to_contain_text("核查通过")
        expect(row.locator(".field-check_result")).to_have_text("✓ 5 · ✗ 0")
        snap_other(staff_page, artifacts_dir, "subsidy-05-staff-applications")

        # --- 6. Opens the application (full name on its own page): the ✓ criteria of the check.
        row.get_by_role("link", name=application.reference).click()
        expect(staff_page).to_have_url(re.compile(rf"/admin/subsidies/subsidyapplication/{application.pk}/change/"))
        content = staff_page.locator("#content-main")
        expect(content).to_contain_text(GRADUATE_NAME)
        checked = content.locator(".field-eligibility_lines .readonly")
        expect(checked).to_contain_text("✓ 户籍：洛阳市以外")
        expect(checked).to_contain_text(f"✓ 面试：已在本平台收到{EMPLOYER_NAME}的面试邀请")
        expect(checked).not_to_contain_text("✗")
        snap_other(staff_page, artifacts_dir, "subsidy-06-staff-application")

        # Starts the review (a confirmation page first).
        tools = staff_page.locator(".object-tools")
        tools.get_by_role("link", name="开始审核", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/subsidyapplication/{application.pk}/review/$"))
        expect(staff_page.locator("#decision-summary")).to_contain_text(application.reference)
        staff_page.get_by_role("button", name="开始审核").click()
        expect(staff_page).to_have_url(re.compile(rf"/subsidyapplication/{application.pk}/change/$"))
        expect(staff_page.locator(".messagelist .success")).to_have_text(f"申请{application.reference}进入审核。")
        expect(content.locator(".field-status .readonly")).to_have_text("审核中")

        # --- 7. Approves: the confirmation shows the ✓ criteria and the amount.
        tools.get_by_role("link", name="审核通过", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/subsidyapplication/{application.pk}/approve/$"))
        summary = staff_page.locator("#decision-summary")
        expect(summary).to_contain_text(application.reference)
        expect(summary).to_contain_text(GRADUATE_MASKED)
        expect(summary).to_contain_text("500.00")
        expect(summary).to_contain_text("✓ 户籍：洛阳市以外")
        expect(staff_page.get_by_label("金额（元）")).to_have_count(0)  # set by the rule
        snap_other(staff_page, artifacts_dir, "subsidy-07-staff-approve")
        staff_page.get_by_role("button", name="审核通过").click()
        expect(staff_page).to_have_url(re.compile(rf"/subsidyapplication/{application.pk}/change/$"))
        application.refresh_from_db()
        assert application.status == SubsidyStatus.NOTICE
        notice_ends_on = application.notice_ends_on
        # subsidy-notice-days: 5 days from the day of the approval (a run across midnight: 4).
        assert (notice_ends_on - timezone.localdate()).days in (4, 5)
        until = f"{notice_ends_on:%Y-%m-%d}"
        expect(staff_page.locator(".messagelist .success")).to_have_text(
            f"申请{application.reference}已批准，金额500.00元，公示至{until}。"
        )
        expect(staff_page.locator("#status-note")).to_have_text(f"公示至{until}。")
        expect(content.locator(".field-status .readonly")).to_have_text("公示中")
        # A decided application offers no second approval, nor payment before the notice ends.
        expect(tools.get_by_role("link", name="审核通过", exact=True)).to_have_count(0)
        expect(tools.get_by_role("link", name="登记支付", exact=True)).to_have_count(0)
        snap_other(staff_page, artifacts_dir, "subsidy-08-staff-in-notice")

        # --- 8. The graduate: in notice until that day, and the public notice board shows a
        # masked name only.
        page.reload()
        expect(mine.get_by_test_id("application-status")).to_have_text("公示中")
        expect(mine.get_by_test_id("notice-until")).to_have_text(until)
        snap("subsidy-09-mine-in-notice")
        page.get_by_role("main").get_by_role("link", name="补贴公示", exact=True).click()
        expect(page).to_have_url(re.compile(r"/subsidies/notices/$"))
        expect(page.get_by_role("heading", level=1, name="补贴公示")).to_be_visible()
        notice = page.locator(f"article[data-notice='{application.pk}']")
        expect(notice.get_by_role("heading", level=2)).to_have_text(f"{PROGRAMME_NAME} · {application.reference}")
        expect(notice.get_by_test_id("masked-name")).to_have_text(GRADUATE_MASKED)
        expect(notice.get_by_test_id("notice-until")).to_have_text(until)
        expect(notice).to_contain_text("500.00元")
        expect(page.locator("body")).not_to_contain_text(GRADUATE_NAME)
        snap("subsidy-10-notices")

        # --- 9. The notice passes with no objection. The test cannot wait 5 days: it runs the
        # service Celery beat runs every morning in production, for the day after the notice.
        assert subsidy_services.subsidy_notices_close(today=notice_ends_on + dt.timedelta(days=1)) == 1
        application.refresh_from_db()
        assert application.status == SubsidyStatus.PAYABLE

        # --- 10. Staff: payable; record the payment with the bank's reference.
        staff_page.reload()
        expect(content.locator(".field-status .readonly")).to_have_text("待支付")
        expect(content.locator(".field-ledger_line .readonly")).to_contain_text("尚未支付")
        tools.get_by_role("link", name="登记支付", exact=True).click()
        expect(staff_page).to_have_url(re.compile(rf"/subsidyapplication/{application.pk}/pay/$"))
        expect(staff_page.locator("#decision-summary")).to_contain_text("待支付")
        staff_page.get_by_label("支付凭证号").fill(PAYMENT_REFERENCE)
        snap_other(staff_page, artifacts_dir, "subsidy-11-staff-pay")
        staff_page.get_by_role("button", name="登记支付").click()
        expect(staff_page).to_have_url(re.compile(rf"/subsidyapplication/{application.pk}/change/$"))
        expect(staff_page.locator(".messagelist .success")).to_have_text(f"{application.reference}的支付已登记。")
        expect(content.locator(".field-status .readonly")).to_have_text("已支付")
        expect(content.locator(".field-ledger_line .readonly")).to_contain_text(f"凭证号{PAYMENT_REFERENCE}")
        expect(tools.get_by_role("link", name="登记支付", exact=True)).to_have_count(0)
        snap_other(staff_page, artifacts_dir, "subsidy-12-staff-paid")

        # --- 11. The payout ledger (资金台账): the row, paid, with the reference.
        staff_page.locator(".breadcrumbs").get_by_role("link", name="补贴申请", exact=True).click()
        expect(staff_page).to_have_url(re.compile(r"/admin/subsidies/subsidyapplication/"))
        staff_page.locator(".object-tools").get_by_role("link", name="资金台账", exact=True).click()
        expect(staff_page).to_have_url(re.compile(r"/admin/subsidies/ledgerentry/"))
        ledger_row = staff_page.locator("#result_list tbody tr").filter(has_text=application.reference)
        expect(ledger_row).to_have_count(1)
        expect(ledger_row).to_contain_text(PROGRAMME_NAME)
        expect(ledger_row).to_contain_text(GRADUATE_MASKED)
        expect(ledger_row).not_to_contain_text(GRADUATE_NAME)
        expect(ledger_row.locator(".field-amount_display")).to_have_text("500.00")
        expect(ledger_row.locator(".field-payment_reference")).to_have_text(PAYMENT_REFERENCE)
        expect(ledger_row.locator(".field-budget_year")).to_have_text(str(timezone.localdate().year))
        snap_other(staff_page, artifacts_dir, "subsidy-13-staff-ledger")
    except BaseException:
        # The ``page`` fixture keeps the graduate's page of a failed test; keep the staff's too.
        with contextlib.suppress(Exception):  # the page may be gone; the test's error is what matters
            staff_page.screenshot(path=artifacts_dir / "FAILED-subsidy-journey-staff.png", full_page=True)
        raise
    finally:
        staff_page.context.close()

    # --- 12. The graduate: 我的补贴 shows 已支付 and the amount.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="补贴政策", exact=True).click()
    expect(page).to_have_url(re.compile(r"/subsidies/$"))
    page.get_by_test_id("for-me").get_by_role("link", name="我的补贴", exact=True).click()
    expect(page).to_have_url(re.compile(r"/subsidies/mine/$"))
    expect(mine.get_by_test_id("application-status")).to_have_text("已支付")
    expect(mine.get_by_test_id("application-amount")).to_have_text("500.00元")
    expect(mine.locator("summary", has_text="撤回申请")).to_have_count(0)  # paid: no withdrawing
    snap("subsidy-14-mine-paid")

    # --- The database at the end: paid, one check (eligible), one ledger entry paid with the
    # reference, by the staff member who recorded it.
    application.refresh_from_db()
    assert application.status == SubsidyStatus.PAID
    assert application.amount == 500
    assert application.reviewed_by_id == district_staff.pk
    check = EligibilityCheck.objects.get(application=application)
    assert check.eligible is True and check.amount == 500
    entry = LedgerEntry.objects.get(application=application)
    assert entry.paid_at is not None and entry.payment_reference == PAYMENT_REFERENCE
    assert entry.paid_by_id == district_staff.pk
    assert (entry.amount, entry.released, entry.budget_year) == (500, False, timezone.localdate().year)
