"""The graduate's first visit, in a real browser and in Chinese: sign up with a mobile number,
confirm it with the SMS code, fill the profile, upload the degree certificate, consent, and see
the completeness indicator reach 100%.

Fields are found through their labels (``get_by_label``), so the test fails when a label stops
being associated with its input. The portal's own labels follow its translation catalogue, so
their text is read from the page and then looked up by that text (``_by_label``, language-proof);
allauth's Chinese labels come with allauth and are used as written."""

import datetime as dt
import re

import pytest
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from portal import sms
from portal.models import ApplicantProfile, User
from tests.portal.factories import make_id_number

# live_server needs committed rows (transaction=True); serialized_rollback puts back the rows the
# data migrations loaded (districts), which the flush after a transactional test removes.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MOBILE = "13912345678"
PASSWORD = "Luoyang-2026-graduate"
CODE_RE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


def _label(text: str) -> re.Pattern:
    """A label's whole text, with or without Django's label suffix (":" or "：")."""
    return re.compile(rf"^\s*(?:{text})\s*[:：]?\s*$")


def _by_label(page: Page, field_id: str) -> Locator:
    """The input labelled by ``<label for=field_id>``, found by that label's text: proves the
    label is programmatically associated with the field, whatever the language."""
    label = page.locator(f"label[for='{field_id}']")
    expect(label).to_have_count(1)
    text = " ".join(label.inner_text().split())
    assert text, f"the label of #{field_id} is empty"
    field = page.get_by_label(text, exact=True)
    expect(field).to_have_count(1)
    expect(field).to_have_id(field_id)
    return field


def _submit_of(page: Page, field: Locator) -> Locator:
    """The one submit button of the form that holds ``field``."""
    form = page.locator("form").filter(has=field)
    expect(form).to_have_count(1)
    # A file input is a "button" too in the accessibility tree: keep the submit one.
    button = form.get_by_role("button").and_(form.locator("[type=submit]"))
    expect(button).to_have_count(1)
    expect(button).to_have_accessible_name(re.compile(r"\S"))
    return button


def _sms_code(to: str) -> str:
    messages = [m for m in sms.outbox if m["to"].endswith(to)]
    assert messages, f"no SMS to {to}; outbox: {sms.outbox!r}"
    match = CODE_RE.search(messages[-1]["message"])
    assert match, f"no 6-digit code in {messages[-1]['message']!r}"
    return match.group(1)


def _degree_certificate_png(tmp_path) -> str:
    path = tmp_path / "degree-certificate.png"
    image = Image.new("RGB", (320, 220), "white")
    for x in range(20, 300):
        image.putpixel((x, 40), (164, 22, 26))
    image.save(path, format="PNG")
    return str(path)


def test_graduate_signs_up_by_phone_and_completes_the_profile(live_server, page: Page, snap, tmp_path):
    # Home page, in Chinese.
    page.goto(live_server.url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    snap("01-home")

    # 注册: the sign-up link in the main menu.
    page.get_by_role("navigation").get_by_role("link", name=re.compile(r"^\s*(注册|Sign up)\s*$")).click()
    expect(page.get_by_role("heading", level=1, name="注册")).to_be_visible()
    snap("02-signup")

    page.get_by_label(_label(r"电话号码|手机号码?|Mobile phone")).fill(MOBILE)
    page.get_by_label(_label("密码")).fill(PASSWORD)
    page.get_by_label(_label("密码（重复）")).fill(PASSWORD)
    page.get_by_role("button", name="注册").click()

    # The code goes out by SMS; the browser lands on the verification page.
    expect(page).to_have_url(re.compile(r"/accounts/phone/verify/"))
    code = _sms_code(MOBILE)
    snap("03-verify-phone")
    page.get_by_label(_label(r"代码|验证码")).fill(code)
    page.get_by_role("button", name="确认").click()

    # Signed in and on the profile page.
    expect(page).to_have_url(re.compile(r"/profile/$"))
    user = User.objects.get(phone__endswith=MOBILE)
    assert user.phone_verified
    completeness = page.get_by_test_id("completeness")
    expect(completeness).not_to_have_text("100%")
    snap("04-profile-empty")

    id_number = make_id_number(born=dt.date(2001, 5, 17))
    real_name = _by_label(page, "id_real_name")
    real_name.fill("王小洛")
    _by_label(page, "id_id_number").fill(id_number)
    _by_label(page, "id_phone").fill(MOBILE)
    _by_label(page, "id_education_level").select_option("bachelor")
    _by_label(page, "id_school").fill("郑州大学")
    _by_label(page, "id_major").fill("软件工程")
    _by_label(page, "id_graduation_date").fill("2024-06-30")
    _by_label(page, "id_hukou_province").fill("河南省")
    _by_label(page, "id_hukou_city").fill("郑州市")
    _by_label(page, "id_district").select_option(label="洛龙区")
    _by_label(page, "id_current_employer").fill("洛阳轴承集团")
    _by_label(page, "id_works_in_luoyang").check()
    _submit_of(page, real_name).click()

    # Saved: the page now shows the ID number masked (it never echoes the number back).
    expect(page.get_by_text(f"{id_number[:4]}**********{id_number[-4:]}").first).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(_by_label(page, "id_id_number")).to_have_value("")

    # Degree certificate.
    kind = _by_label(page, "id_kind")
    kind.select_option("degree_certificate")
    expect(kind.locator("option:checked")).to_have_text(re.compile(r"学位证书|Degree certificate"))
    _by_label(page, "id_file").set_input_files(_degree_certificate_png(tmp_path))
    _submit_of(page, kind).click()
    expect(page.get_by_role("table")).to_contain_text(re.compile(r"学位证书|Degree certificate"))
    expect(page.get_by_role("link", name="degree-certificate.png")).to_be_visible()

    # Consent: the last thing missing.
    agree = _by_label(page, "id_agree")
    agree.check()
    _submit_of(page, agree).click()

    expect(completeness).to_have_text("100%")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    snap("05-profile-complete")

    profile = ApplicantProfile.objects.get(user=user)
    assert profile.real_name == "王小洛"
    assert profile.birth_date == dt.date(2001, 5, 17)
    assert profile.is_from_outside_luoyang is True
    assert profile.works_in_luoyang is True
    assert id_number not in profile.id_number_encrypted

    # The sign-in page, for the screenshots (allauth's pages share the portal's layout).
    page.get_by_role("button", name=re.compile(r"^\s*(退出登录|退出|注销|Sign out)\s*$")).click()
    page.goto(live_server.url + "/accounts/login/")
    expect(page.get_by_role("heading", level=1, name="登录")).to_be_visible()
    snap("06-login")
