"""Browser helpers the journeys share: a second person's browser, screenshots of it, and
signing in as a person types it; and their set-up: people who can sign in with an e-mail
address and password, and an image to upload."""

import io
import re

from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
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
