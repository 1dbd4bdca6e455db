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
    from jobs.constants import ApplicationStatus, PositionKind
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
