"""django-allauth glue: phone numbers live on ``User.phone``; codes go out through the
portal's SMS backend."""

import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal.models import User
from portal.sms import send_sms
from portal.validators import normalise_cn_mobile


class PhoneField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("label", _("Mobile phone"))
        super().__init__(**kwargs)
        self.widget.attrs.update({"autocomplete": "tel", "inputmode": "tel", "placeholder": "13800000000"})

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return normalise_cn_mobile(value)


class AccountAdapter(DefaultAccountAdapter):
    def phone_form_field(self, **kwargs):
        kwargs["label"] = _("Mobile phone")  # allauth passes its own "Phone" label
        return PhoneField(**kwargs)

    def clean_phone(self, phone: str) -> str:
        try:
            return normalise_cn_mobile(phone)
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        send_sms(
            phone=phone,
            message=_("Your verification code is %(code)s, valid for 10 minutes. Do not share it.") % {"code": code},
        )

    def send_unknown_account_sms(self, phone: str, **kwargs) -> None:
        send_sms(
            phone=phone,
            message=_(
                "Someone asked to sign in with this number, but no account uses it. You can sign up on the portal."
            ),
        )

    def send_account_already_exists_sms(self, phone: str) -> None:
        send_sms(
            phone=phone,
            message=_(
                "Someone tried to sign up with this number, which already has an account. Sign in instead, or ignore this message."
            ),
        )

    def set_phone(self, user: User, phone: str, verified: bool) -> None:
        user.phone = phone
        user.phone_verified = verified
        if user.pk:
            user.save(update_fields=["phone", "phone_verified"])

    def get_phone(self, user: User):
        if not user.phone:
            return None
        return user.phone, user.phone_verified

    def set_phone_verified(self, user: User, phone: str) -> None:
        self.set_phone(user, phone, True)

    def get_user_by_phone(self, phone: str):
        # The password sign-in form passes the number as typed (13912345678); it is stored as +86...
        try:
            phone = normalise_cn_mobile(phone)
        except ValidationError:
            return None
        return User.objects.filter(phone=phone).order_by("pk").first()

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        if not user.username:
            import uuid

            user.username = f"u{uuid.uuid4().hex[:16]}"
        if not user.email:
            user.email = None  # unique: many phone-only users have no e-mail
        if getattr(request, "LANGUAGE_CODE", None) in ("zh-hans", "en"):
            user.language = request.LANGUAGE_CODE
        if commit:
            user.save()
        return user

    def is_reauthentication_required(self, *, app: str, **kwargs) -> bool:
        """Setting up an authenticator app asks for the password (or an SMS code) again, unless
        the person signed in with one of them in the last few minutes: staff are sent to set
        up the app straight after their first sign-in (portal.security), and a second password
        prompt there would prove nothing more."""
        if app == "allauth.mfa" and signed_in_recently(context.request):
            return False
        return super().is_reauthentication_required(app=app, **kwargs)


def signed_in_recently(request) -> bool:
    from allauth.account import app_settings
    from allauth.account.authentication import get_authentication_records

    if request is None or not request.user.is_authenticated:
        return False
    limit = time.time() - app_settings.REAUTHENTICATION_TIMEOUT
    return any(
        record.get("method") in ("password", "code") and record.get("at", 0) > limit
        for record in get_authentication_records(request, request.user)
    )
