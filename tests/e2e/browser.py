"""Browser helpers the journeys share: a second person's browser, screenshots of it, and
signing in as a person types it; and their set-up: people who can sign in with an e-mail
address and password, and an image to upload."""

import datetime as dt
import io
import re

from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, STEP_TIMEOUT_MS


def new_page(browser: Browser) -> Page:
    """Another person's browser: a context of its own, set up like the ``page`` fixture's."""
    context = browser.new_context(
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=DESKTOP,
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"},
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    context.set_default_navigation_timeout(STEP_TIMEOUT_MS)
    return context.new_page()


def snap_other(page: Page, artifacts_dir, name: str) -> None:
    """``snap`` for a page other than the fixture's: phone and desktop width, full page."""
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.screenshot(path=artifacts_dir / f"{name}-{size['width']}.png", full_page=True, animations="disabled")
    page.set_viewport_size(DESKTOP)


def sign_in(page: Page, email: str, password: str) -> None:
    """The sign-in page, as typed by a person; allauth's own field names (its labels change
    with the enabled login methods)."""
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("heading", level=1, name="登录")).to_be_visible()
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("form").filter(has=page.locator("input[name=password]")).get_by_role("button", name="登录").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def png(name: str) -> SimpleUploadedFile:
    """A small PNG image to upload (a document, a photo)."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (164, 22, 26)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def verified_email(user, email: str, password: str):
    """A password and a verified primary e-mail address, so allauth signs the user in with
    them and never stops at an e-mail confirmation page."""
    user.email = email
    user.set_password(password)
    user.save(update_fields=["email", "password"])
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def interview_through_the_services(
    graduate,
    district,
    *,
    employer_name: str,
    position: dict,
    on: dt.date,
    place: str = "洛阳市洛龙区开元大道 1 号 3 楼",
):
    """What an employer really produces before a journey starts: city staff verify the
    organisation, its position is published, the graduate applies and is invited to an
    interview on ``on`` at 10:00 — all through the jobs services."""
    from jobs import services as jobs_services
    from jobs.constants import ApplicationStatus

    created = published_position_through_the_services(district, employer_name=employer_name, position=position)
    employer = created.organisation.memberships.get().user
    application = jobs_services.job_application_submit(
        position=created, applicant=graduate, cover_note="希望来洛阳工作。"
    )
    invitation = jobs_services.job_application_invite(
        application=application,
        actor=employer,
        starts_at=timezone.make_aware(dt.datetime.combine(on, dt.time(10))),
        place=place,
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.INTERVIEW
    return invitation


# --- shared by the three long journeys (issue 8): the graduate, the employer, district staff ---

SMS_CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def label_text(text: str) -> re.Pattern:
    """A label's whole text, with or without Django's label suffix (":" or "：")."""
    return re.compile(rf"^\s*(?:{text})\s*[:：]?\s*$")


def by_label(page: Page, field_id: str):
    """The input labelled by ``<label for=field_id>``, found through that label's text as a
    person reads it (whatever the language): fails when the label is not associated."""
    label = page.locator(f"label[for='{field_id}']")
    expect(label).to_have_count(1)
    text = " ".join(label.inner_text().split())
    assert text, f"the label of #{field_id} is empty"
    field = page.get_by_label(text, exact=True)
    expect(field).to_have_count(1)
    expect(field).to_have_id(field_id)
    return field


def sms_code(to: str) -> str:
    """The 6-digit code of the last SMS the portal sent to the number ``to`` (test outbox)."""
    from portal import sms

    messages = [m for m in sms.outbox if m["to"].endswith(to)]
    assert messages, f"no SMS to {to}; outbox: {sms.outbox!r}"
    match = SMS_CODE_RE.search(messages[-1]["message"])
    assert match, f"no 6-digit code in {messages[-1]['message']!r}"
    return match.group(1)


def sign_up_by_phone(page: Page, mobile: str, password: str, *, before_submit=None) -> None:
    """注册 from the main menu with a mobile number and a password, then the SMS code typed
    on the verification page: the browser ends signed in on the profile page.
    ``before_submit`` is called with the filled sign-up page (for its screenshot)."""
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="注册", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="注册")).to_be_visible()
    page.get_by_label(label_text(r"电话号码|手机号码?")).fill(mobile)
    page.get_by_label(label_text("密码")).fill(password)
    page.get_by_label(label_text("密码（重复）")).fill(password)
    if before_submit is not None:
        before_submit()
    page.get_by_role("button", name="注册").click()
    expect(page).to_have_url(re.compile(r"/accounts/phone/verify/"))
    page.get_by_label(label_text(r"代码|验证码")).fill(sms_code(mobile))
    page.get_by_role("button", name="确认").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))


def shot(page: Page, artifacts_dir, name: str, *, phone: bool = False) -> None:
    """A full-page screenshot of a journey's step at desktop width (1280 px), and for the
    key steps at phone width (390 px) too: ``<name>-1280.png``, ``<name>-390.png``."""
    for size in (PHONE, DESKTOP) if phone else (DESKTOP,):
        page.set_viewport_size(size)
        page.screenshot(path=artifacts_dir / f"{name}-{size['width']}.png", full_page=True, animations="disabled")
    page.set_viewport_size(DESKTOP)


def published_position_through_the_services(district, *, employer_name: str, position: dict):
    """A position an employer really published before a journey starts: city staff verify
    the organisation, its employer posts the position and district staff approve it, all
    through the services. Returns the position."""
    from jobs import services as jobs_services
    from jobs.constants import PositionKind
    from portal import services as portal_services
    from portal.constants import EducationLevel, Industry
    from tests.portal.factories import CityStaffFactory, OrganisationFactory

    city_staff = CityStaffFactory()
    organisation = OrganisationFactory(name=employer_name, district=district)
    portal_services.organisation_verify(organisation=organisation, actor=city_staff)
    organisation.refresh_from_db()
    employer = organisation.memberships.get().user
    data = {
        "kind": PositionKind.JOB,
        "district": district,
        "industry": Industry.BEARINGS,
        "education_level": EducationLevel.BACHELOR,
        "majors": "机械工程",
        "work_address": "洛阳市洛龙区开元大道 1 号",
        "deadline": timezone.localdate() + dt.timedelta(days=30),
        **position,
    }
    created = jobs_services.position_create(organisation=organisation, actor=employer, data=data)
    jobs_services.position_submit(position=created, actor=employer)
    jobs_services.position_approve(position=created, actor=city_staff)
    created.refresh_from_db()
    return created
