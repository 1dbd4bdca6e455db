"""Sign-up and sign-in by mobile phone with django-allauth: one-time SMS codes through the
portal's SMS backend, numbers stored as +86..., graduates by default."""

import re
import time
import types

import pytest
from allauth.account import app_settings as allauth_settings
from allauth.account.internal.flows import code_verification
from django.urls import reverse
from django.utils import translation

from portal import sms
from portal.constants import Role
from portal.models import User
from tests.portal.factories import UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = reverse("account_signup")
VERIFY_PHONE = reverse("account_verify_phone")
LOGIN = reverse("account_login")
REQUEST_CODE = reverse("account_request_login_code")
CONFIRM_CODE = reverse("account_confirm_login_code")
PROFILE = reverse("portal:profile")
PASSWORD = "Luoyang-2026-youth"


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def last_code(phone: str = "+8613912345678") -> str:
    """The one-time code of the last SMS to ``phone``: six digits, nothing else."""
    messages = [m["message"] for m in sms.outbox if m["to"] == phone]
    assert messages, f"no SMS to {phone}: {sms.outbox}"
    codes = re.findall(r"(?<!\d)\d{6}(?!\d)", messages[-1])
    assert len(codes) == 1, messages[-1]
    return codes[0]


def sign_up(client, phone="13912345678", **extra):
    return client.post(SIGNUP, {"phone": phone, "password1": PASSWORD, "password2": PASSWORD, **extra})


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


# --- sign-up -------------------------------------------------------------------------------


def test_sign_up_by_phone_then_verify_with_the_sms_code(client):
    response = sign_up(client)

    assert response.status_code == 302
    assert response.url == VERIFY_PHONE
    user = User.objects.get()
    assert user.phone == "+8613912345678"
    assert user.phone_verified is False
    assert user.role == Role.GRADUATE
    assert user.email is None
    assert user.check_password(PASSWORD)
    assert len(sms.outbox) == 1
    sent = sms.outbox[0]
    assert sent["to"] == "+8613912345678"
    assert sent["message"].startswith("【洛阳青年】")
    code = last_code()

    assert client.get(VERIFY_PHONE).status_code == 200
    response = client.post(VERIFY_PHONE, {"code": code})

    assert response.status_code == 302
    assert response.url == PROFILE
    user.refresh_from_db()
    assert user.phone_verified is True
    assert user.phone == "+8613912345678"
    assert signed_in_user_id(client) == str(user.pk)
    assert client.get(PROFILE).status_code == 200


def test_sign_up_with_an_e_mail_address_as_well(client):
    response = sign_up(client, email="Li.Lei@Example.com")

    assert response.status_code == 302
    user = User.objects.get()
    assert user.email.lower() == "li.lei@example.com"
    assert user.phone == "+8613912345678"


def test_a_wrong_verification_code_is_refused_with_a_message(client):
    sign_up(client)
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"

    response = client.post(VERIFY_PHONE, {"code": wrong})

    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [zh("Incorrect code.")]
    assert zh("Incorrect code.") in response.content.decode()
    assert User.objects.get().phone_verified is False
    # The right code still works afterwards.
    assert client.post(VERIFY_PHONE, {"code": code}).status_code == 302
    assert User.objects.get().phone_verified is True


@pytest.mark.parametrize("typed", ["139 1234 5678", "+86 139-1234-5678", "008613912345678", "(139) 1234 5678"])
def test_phone_numbers_are_stored_in_one_form(client, typed):
    assert sign_up(client, phone=typed).status_code == 302

    assert User.objects.get().phone == "+8613912345678"
    assert sms.outbox[0]["to"] == "+8613912345678"


@pytest.mark.parametrize("bad", ["1234", "23912345678", "139123456789", "+1 650 555 0100", "一三九"])
def test_an_invalid_phone_number_is_refused_with_a_form_error(client, bad):
    response = sign_up(client, phone=bad)

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        zh("Enter a mainland China mobile number of 11 digits starting with 1.")
    ]
    assert not User.objects.exists()
    assert sms.outbox == []


def test_a_registered_phone_cannot_sign_up_twice(client):
    existing = UserFactory(phone="+8613912345678")

    response = sign_up(client, phone="139 1234 5678")

    # allauth does not reveal that the number is taken: the page looks the same, and the
    # owner of the number gets an SMS telling them instead of a code.
    assert response.status_code == 302
    assert response.url == VERIFY_PHONE
    assert User.objects.get() == existing
    assert len(sms.outbox) == 1
    assert sms.outbox[0]["to"] == "+8613912345678"
    assert not re.search(r"\d{6}", sms.outbox[0]["message"])
    existing.refresh_from_db()
    assert existing.check_password("pass-word-123")  # the stranger's password was not set
    # No code the stranger can type signs them in.
    response = client.post(VERIFY_PHONE, {"code": "123456"})
    assert signed_in_user_id(client) is None


def test_signing_up_twice_in_a_row_with_the_same_number_is_not_a_server_error(client):
    sign_up(client)
    client.logout()

    response = sign_up(client)

    # allauth raises RateLimited deep in the flow; portal.middleware answers with the 429 page.
    assert response.status_code in (200, 302, 429)
    if response.status_code == 429:
        assert response.templates[0].name == "429.html"
    assert User.objects.count() == 1


def test_a_user_signing_up_in_english_keeps_english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    sign_up(client)

    assert User.objects.get().language == "en"
    assert "verification code" in sms.outbox[0]["message"]


def test_a_user_signing_up_in_chinese_gets_chinese(client):
    sign_up(client)

    assert User.objects.get().language == "zh-hans"


# --- sign-in by code -----------------------------------------------------------------------


def test_sign_in_by_sms_code(client):
    user = UserFactory(phone="+8613912345678")

    response = client.post(REQUEST_CODE, {"phone": "13912345678"})

    assert response.status_code == 302
    assert response.url == CONFIRM_CODE
    code = last_code()
    assert signed_in_user_id(client) is None

    response = client.post(CONFIRM_CODE, {"code": code})

    assert response.status_code == 302
    assert response.url == PROFILE
    assert signed_in_user_id(client) == str(user.pk)


def test_a_wrong_sign_in_code_is_refused_with_a_message(client):
    UserFactory(phone="+8613912345678")
    client.post(REQUEST_CODE, {"phone": "13912345678"})
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"

    response = client.post(CONFIRM_CODE, {"code": wrong})

    assert response.status_code == 200
    assert response.context["form"].errors["code"] == [zh("Incorrect code.")]
    assert signed_in_user_id(client) is None


def test_after_too_many_wrong_codes_the_code_is_void(client):
    UserFactory(phone="+8613912345678")
    client.post(REQUEST_CODE, {"phone": "13912345678"})
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"

    for _ in range(allauth_settings.LOGIN_BY_CODE_MAX_ATTEMPTS):
        response = client.post(CONFIRM_CODE, {"code": wrong})

    assert response.status_code == 302
    assert response.url == REQUEST_CODE
    client.post(CONFIRM_CODE, {"code": code})
    assert signed_in_user_id(client) is None


def test_an_expired_code_is_refused(client, monkeypatch):
    UserFactory(phone="+8613912345678")
    client.post(REQUEST_CODE, {"phone": "13912345678"})
    code = last_code()
    later = time.time() + 11 * 60  # codes are valid for 10 minutes
    monkeypatch.setattr(code_verification, "time", types.SimpleNamespace(time=lambda: later))

    client.post(CONFIRM_CODE, {"code": code})

    assert signed_in_user_id(client) is None


def test_sign_in_codes_are_limited_in_rate(client):
    UserFactory(phone="+8613912345678")
    client.post(REQUEST_CODE, {"phone": "13912345678"})
    client.logout()

    response = client.post(REQUEST_CODE, {"phone": "13912345678"})

    assert response.status_code == 200
    assert response.context["form"].errors["phone"]
    assert len(sms.outbox) == 1


def test_a_code_for_an_unknown_number_reveals_nothing_and_creates_no_account(client):
    UserFactory(phone="+8613912345678")

    response = client.post(REQUEST_CODE, {"phone": "13800002222"})

    assert response.status_code == 302
    assert response.url == CONFIRM_CODE
    assert User.objects.count() == 1
    assert [m["to"] for m in sms.outbox] == ["+8613800002222"]
    assert not re.search(r"\d{6}", sms.outbox[0]["message"])
    client.post(CONFIRM_CODE, {"code": "123456"})
    assert signed_in_user_id(client) is None


def test_an_invalid_number_cannot_ask_for_a_code(client):
    response = client.post(REQUEST_CODE, {"phone": "12345"})

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [
        zh("Enter a mainland China mobile number of 11 digits starting with 1.")
    ]
    assert sms.outbox == []


# --- sign-in by password -------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["13912345678", "+8613912345678"])
def test_sign_in_with_phone_and_password(client, typed):
    user = UserFactory(phone="+8613912345678")

    response = client.post(LOGIN, {"login": typed, "password": "pass-word-123"})

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_a_wrong_password_is_refused(client):
    UserFactory(phone="+8613912345678")

    response = client.post(LOGIN, {"login": "13912345678", "password": "wrong-password"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert signed_in_user_id(client) is None


def test_sign_in_with_e_mail_and_password(client):
    user = UserFactory(email="li@example.com")

    response = client.post(LOGIN, {"login": "li@example.com", "password": "pass-word-123"})

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(user.pk)


def test_asking_for_a_login_code_with_an_empty_form_is_a_message(client):
    response = client.post("/accounts/login/code/", {"phone": "", "email": ""})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
