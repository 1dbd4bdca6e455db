"""District staff and the second factor, in the browser, as production has it
(``PORTAL_STAFF_MFA_REQUIRED``): a new staff member signs in with the password, is sent to set
up an authenticator app before any page opens, enters its first code and lands in the admin;
the next sign-in asks for a code after the password (here a recovery code, as after a lost
phone)."""

import re
import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import hotp_value
from playwright.sync_api import Page, expect

from tests.e2e.browser import sign_in, verified_email
from tests.portal.factories import DistrictStaffFactory

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations load (districts, parameters) for the tests after this one.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

STAFF_EMAIL = "mfa.staff@example.com"
STAFF_PASSWORD = "Luoyang-staff-2026"


def test_staff_set_up_an_authenticator_app_before_the_admin_opens(live_server, page: Page, snap, settings, luolong):
    settings.PORTAL_STAFF_MFA_REQUIRED = True
    staff = verified_email(DistrictStaffFactory(districts=[luolong]), STAFF_EMAIL, STAFF_PASSWORD)

    # --- 1. Password only: the admin does not open; the set-up page does, in Chinese.
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    sign_in(page, STAFF_EMAIL, STAFF_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/\?next=%2Fadmin%2F$"))
    expect(page.locator(".message-warning")).to_contain_text("双重身份验证")
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    # Each visit shows a new secret: the one on the page now is the one to use.
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}", secret)
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()
    snap("mfa-01-set-up")

    # --- 2. The first code from the app: the admin opens, without a second code.
    page.locator("input[name=code]").fill(f"{hotp_value(secret, int(time.time()) // 30):06d}")
    page.locator("form").filter(has=page.locator("input[name=code]")).locator("button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/2fa/totp/activate/"))
    assert Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists()
    page.goto(f"{live_server.url}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_contain_text("洛阳青年人才服务平台")
    snap("mfa-02-admin")

    # --- 3. Signed out and in again: the password leads to the code page, not the admin.
    page.locator("#logout-form button, form[action$='/logout/'] button").first.click()
    page.goto(f"{live_server.url}/accounts/login/?next=/admin/")
    sign_in(page, STAFF_EMAIL, STAFF_PASSWORD)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    snap("mfa-03-code")
    # The phone is at home: one of the recovery codes made at set-up.
    recovery = Authenticator.objects.get(user=staff, type=Authenticator.Type.RECOVERY_CODES)
    page.locator("input[name=code]").fill(recovery.wrap().get_unused_codes()[0])
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
