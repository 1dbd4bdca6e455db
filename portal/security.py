"""Security middleware: a Content-Security-Policy on every response, and two-factor
authentication for staff.

Django's ``SecurityMiddleware`` already sends HSTS, nosniff, the referrer and opener
policies, and ``XFrameOptionsMiddleware`` the frame options; what Django 5.2 lacks is a
Content-Security-Policy, so it is set here. Staff decide on people's housing, money and
personal data: a stolen password alone must not open the admin, so with
``PORTAL_STAFF_MFA_REQUIRED`` a staff session without a second factor can do nothing but set
one up and use it."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


def policy_header(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class ContentSecurityPolicyMiddleware:
    """Send ``PORTAL_CSP`` (a dict of directives) unless the view set its own policy:
    document downloads send a stricter one, the API documentation page a looser one."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.header = policy_header(settings.PORTAL_CSP)
        self.permissions = settings.PORTAL_PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.header)
        if self.permissions:
            response.headers.setdefault("Permissions-Policy", self.permissions)
        return response


def is_staff_user(user) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_portal_staff))


def session_passed_mfa(request) -> bool:
    from allauth.account.authentication import get_authentication_records

    return any(record.get("method") == "mfa" for record in get_authentication_records(request, request.user))


class StaffMfaMiddleware:
    """With ``PORTAL_STAFF_MFA_REQUIRED``, a signed-in staff member must have an authenticator
    app and must have used it in this session. Until then every page but the account pages
    (where the authenticator is set up and the code entered), the language switch and the
    health check sends them there, and comes back afterwards (``next``).

    allauth asks for the code at sign-in once an authenticator exists, whatever the first
    factor (password or SMS code); this middleware covers what allauth leaves open: staff who
    have not set one up yet, and sessions that began before it was set up."""

    EXEMPT_PREFIXES = ("/accounts/", "/i18n/", "/healthz", "/static/", "/media/", "/jsi18n/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.PORTAL_STAFF_MFA_REQUIRED
            and is_staff_user(request.user)
            and not request.path_info.startswith(self.EXEMPT_PREFIXES)
            and not session_passed_mfa(request)
        ):
            return self.redirect(request)
        return self.get_response(request)

    def redirect(self, request):
        from allauth.mfa.models import Authenticator

        has_totp = Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()
        if has_totp:
            target = reverse("mfa_reauthenticate")
            messages.info(request, _("Staff pages need the code from your authenticator app. Enter it to continue."))
        else:
            target = reverse("mfa_activate_totp")
            messages.warning(
                request,
                _(
                    "Staff accounts must use two-factor authentication. Set up an authenticator app "
                    "to continue; you will be asked for its code at every sign-in."
                ),
            )
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)


def record_mfa_on_activation(sender, request, user, authenticator, **kwargs) -> None:
    """Entering the first code proves the app works: count it as this session's second
    factor, so staff who just set it up go on to the page they wanted instead of typing a
    second code straight away."""
    from allauth.account.internal.flows.login import record_authentication
    from allauth.mfa.models import Authenticator

    if request is not None and authenticator.type == Authenticator.Type.TOTP and request.user == user:
        record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
        # allauth sends the signal on commit, which may come after the response has saved
        # the session; save it here so the record is not lost.
        request.session.save()


def with_policy(**overrides: str):
    """Decorate a view whose page needs another policy than ``PORTAL_CSP`` (names with
    underscores for dashes: ``script_src=...``)."""

    def decorate(view):
        def wrapped(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            directives = dict(settings.PORTAL_CSP)
            directives.update({name.replace("_", "-"): value for name, value in overrides.items()})
            response.headers["Content-Security-Policy"] = policy_header(directives)
            return response

        return wrapped

    return decorate


class PortalTokenAuthentication(TokenAuthentication):
    """API tokens for graduates' and employers' apps. A token is a single factor, so with
    ``PORTAL_STAFF_MFA_REQUIRED`` a staff member's token is refused: staff work in the admin,
    signed in with their authenticator app."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if settings.PORTAL_STAFF_MFA_REQUIRED and is_staff_user(user):
            raise exceptions.AuthenticationFailed(
                _("Staff accounts cannot use API tokens: sign in to the admin with your authenticator app.")
            )
        return user, token
