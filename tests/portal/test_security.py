"""Security as a browser and an attacker meet it: the headers of the production settings,
a Content-Security-Policy that the pages actually keep (no inline script anywhere), staff who
cannot use the admin without a second factor, and password guessing stopped per account and
per address."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, hotp_value
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from tests.portal.factories import UserFactory
from tests.portal.test_deploy import ROOT, production_env

TEMPLATES = Path(ROOT) / "templates"

# One request through the production settings in a fresh interpreter: the response headers
# as a proxy would pass them on. The sign-in page reads no table, so no database is needed;
# the static manifest exists only after collectstatic, which headers do not depend on.
HEADERS_SCRIPT = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
client = Client(HTTP_HOST="rencai.example.gov.cn", HTTP_X_FORWARDED_PROTO="https")
response = client.get("/accounts/login/", secure=True)
print(json.dumps({"status": response.status_code, "headers": dict(response.headers)}))
"""


def production_headers() -> dict:
    result = subprocess.run(
        [sys.executable, "-c", HEADERS_SCRIPT],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_the_security_headers():
    answer = production_headers()
    assert answer["status"] == 200
    headers = {name.lower(): value for name, value in answer["headers"].items()}
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["cross-origin-opener-policy"] == "same-origin"
    csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "camera=(self)" in headers["permissions-policy"]


def test_production_redirects_plain_http_to_https():
    script = HEADERS_SCRIPT.replace(', HTTP_X_FORWARDED_PROTO="https"', "").replace(", secure=True", "")
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120
    )
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    assert answer["status"] == 301
    assert answer["headers"]["Location"] == "https://rencai.example.gov.cn/accounts/login/"


@pytest.mark.django_db
def test_every_page_gets_the_policy_and_views_may_tighten_or_widen_it(client, graduate_a):
    home = client.get("/")
    assert "script-src 'self';" in home["Content-Security-Policy"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # The API page loads Swagger UI's pinned release from jsDelivr, and only that page.
    assert "https://cdn.jsdelivr.net" in docs["Content-Security-Policy"]
    assert "swagger-ui-dist@5.35.0" in docs.content.decode()
    assert "https://cdn.jsdelivr.net" not in home["Content-Security-Policy"]


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(r"\son(click|change|submit|load|input|keyup|keydown|focus|blur)\s*=", re.IGNORECASE)


def test_no_template_has_inline_script_that_the_policy_would_block():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for pattern in (INLINE_SCRIPT, INLINE_HANDLER):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert not offenders, "script-src 'self' blocks these; move them to static/js/:\n" + "\n".join(offenders)


# --- staff and the second factor -------------------------------------------------------------


def code_now(secret: str) -> str:
    """The code an authenticator app shows for ``secret`` at this moment."""
    import time

    return f"{hotp_value(secret, int(time.time()) // 30):06d}"


def current_code(authenticator: Authenticator) -> str:
    from allauth.mfa.utils import decrypt

    return code_now(decrypt(authenticator.data["secret"]))


@pytest.fixture
def mfa_on():
    with override_settings(PORTAL_STAFF_MFA_REQUIRED=True):
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_on")
def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, staff_1):
    client.force_login(staff_1)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp") + "?next=")
    # Every staff page, not only the admin: the session is good for nothing else yet.
    assert client.get("/").status_code == 302
    # The account pages stay open (allauth first asks for the password again: a forced login
    # recorded no sign-in method).
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 302
    assert setup["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(setup["Location"]).status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_on")
def test_setting_up_the_app_counts_as_the_second_factor_of_this_session(
    client, staff_1, django_capture_on_commit_callbacks
):
    client.force_login(staff_1)
    # allauth asks for the password again before adding an authenticator.
    staff_1.set_password("correct horse battery")
    staff_1.save()
    client.force_login(staff_1)
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302:  # reauthentication first
        client.post(page["Location"], {"password": "correct horse battery"})
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    code = code_now(secret)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": code})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Authenticator.objects.filter(user=staff_1, type=Authenticator.Type.TOTP).exists()
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_on")
def test_a_session_that_has_not_used_the_app_must_enter_its_code(client, staff_1):
    authenticator = TOTP.activate(staff_1, generate_totp_secret()).instance
    client.force_login(staff_1)
    response = client.get("/admin/portal/organisation/")
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_reauthenticate") + "?next=%2Fadmin%2Fportal%2Forganisation%2F"
    wrong = client.post(reverse("mfa_reauthenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert client.get("/admin/").status_code == 302
    right = client.post(
        reverse("mfa_reauthenticate") + "?next=/admin/portal/organisation/", {"code": current_code(authenticator)}
    )
    assert right.status_code == 302
    assert right["Location"] == "/admin/portal/organisation/"
    assert client.get("/admin/portal/organisation/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_on")
def test_password_sign_in_of_staff_asks_for_the_code(client, staff_1):
    staff_1.set_password("correct horse battery")
    staff_1.save()
    authenticator = TOTP.activate(staff_1, generate_totp_secret()).instance
    response = client.post(reverse("account_login"), {"login": staff_1.email, "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    # Not signed in yet: the password alone opens nothing.
    assert client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in client.session
    done = client.post(reverse("mfa_authenticate"), {"code": current_code(authenticator)})
    assert done.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_on")
def test_graduates_and_employers_are_not_asked(client, graduate_a, employer_x):
    for user in (graduate_a, employer_x):
        client.force_login(user)
        assert client.get(reverse("portal:profile")).status_code in (200, 302)
        assert not client.get(reverse("portal:profile")).get("Location", "").startswith("/accounts/2fa/")


def test_production_requires_the_second_factor_and_development_does_not():
    script = (
        "import django; django.setup(); from django.conf import settings; print(settings.PORTAL_STAFF_MFA_REQUIRED)"
    )
    prod = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=production_env(PORTAL_STAFF_MFA_REQUIRED="false"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prod.stdout.strip() == "True", prod.stderr
    assert settings.PORTAL_STAFF_MFA_REQUIRED is False  # the test settings


# --- password guessing -----------------------------------------------------------------------


def try_password(client, login: str, password: str, ip: str):
    return client.post(reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_an_account_locks_after_five_wrong_passwords_from_any_address(client):
    user = UserFactory(email="target@example.com", password="the right one 123")
    for attempt in range(5):
        response = try_password(client, "target@example.com", f"guess {attempt}", ip=f"10.0.0.{attempt}")
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    # The sixth try, even with the right password and from yet another address, is refused.
    locked = try_password(client, "target@example.com", "the right one 123", ip="10.0.0.99")
    assert "_auth_user_id" not in client.session
    assert locked.status_code in (200, 429)
    assert "登录失败次数过多" in locked.content.decode() or locked.status_code == 429
    # Another account from the same addresses is not affected.
    UserFactory(email="other@example.com", password="other password 456")
    ok = try_password(client, "other@example.com", "other password 456", ip="10.0.0.98")
    assert ok.status_code == 302
    assert client.session["_auth_user_id"] != str(user.pk)


@pytest.mark.django_db
def test_one_address_guessing_many_accounts_is_stopped(client):
    for n in range(10):
        UserFactory(email=f"victim{n}@example.com", password="secret password 789")
    for n in range(10):
        try_password(client, f"victim{n}@example.com", "wrong", ip="203.0.113.7")
    blocked = try_password(client, "victim0@example.com", "secret password 789", ip="203.0.113.7")
    assert "_auth_user_id" not in client.session
    assert blocked.status_code == 429 or "登录失败次数过多" in blocked.content.decode()
    # Someone else on another address signs in as usual.
    elsewhere = try_password(client, "victim9@example.com", "secret password 789", ip="198.51.100.1")
    assert elsewhere.status_code == 302


@pytest.mark.django_db
def test_a_staff_token_opens_no_api_while_graduate_tokens_work(client, staff_1, graduate_a):
    from rest_framework.authtoken.models import Token

    staff_token = Token.objects.create(user=staff_1)
    graduate_token = Token.objects.create(user=graduate_a)
    with override_settings(PORTAL_STAFF_MFA_REQUIRED=True):
        refused = client.get("/api/v1/positions/", HTTP_AUTHORIZATION=f"Token {staff_token.key}")
        assert refused.status_code == 401
        assert "detail" in refused.json()
        mine = client.get("/api/v1/job-applications/", HTTP_AUTHORIZATION=f"Token {graduate_token.key}")
        assert mine.status_code == 200


@pytest.mark.django_db
@pytest.mark.usefixtures("mfa_on")
def test_right_after_signing_in_staff_set_up_the_app_without_a_second_password_prompt(client, staff_1):
    staff_1.set_password("correct horse battery")
    staff_1.save()
    signed_in = client.post(reverse("account_login"), {"login": staff_1.email, "password": "correct horse battery"})
    assert signed_in.status_code == 302
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    # A session whose sign-in is older than allauth's reauthentication timeout is asked again.
    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": record["at"] - 3600} for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()
    stale = client.get(reverse("mfa_activate_totp"))
    assert stale.status_code == 302 and stale["Location"].startswith(reverse("account_reauthenticate"))
