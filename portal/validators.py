"""Validators for Chinese identifiers: resident ID numbers (GB 11643-1999) and unified
social credit codes (GB 32100-2015). Both return the normalised value or raise
ValidationError with a message that tells the person what is wrong; and the password length
rule with its message translated."""

import datetime as dt
import re
import unicodedata

from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# ASCII only: Python's \d also matches other scripts' digits, which would give the same
# number a second spelling (and a second keyed hash).
_ID_RE = re.compile(r"^\d{17}[\dX]$", re.ASCII)


def id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _fold(value: str) -> str:
    """Full-width characters from Chinese input methods (１２３Ｘ) become ASCII; spaces go."""
    return unicodedata.normalize("NFKC", value or "").replace(" ", "").strip()


def normalise_id_number(value: str) -> str:
    return _fold(value).upper()


def validate_id_number(value: str) -> str:
    """Validate an 18-character resident ID number and return it normalised."""
    number = normalise_id_number(value)
    if len(number) != 18:
        raise ValidationError(_("An ID number has 18 characters."), code="id_length")
    if not _ID_RE.match(number):
        raise ValidationError(_("An ID number is 17 digits followed by a digit or X."), code="id_format")
    if id_birth_date(number) is None:
        raise ValidationError(_("The birth date in this ID number is not a valid date."), code="id_birth_date")
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(
            _("The check digit of this ID number is wrong; please check for a typing error."),
            code="id_checksum",
        )
    return number


def id_birth_date(number: str) -> dt.date | None:
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
    if born.year < 1900 or born > timezone.localdate():
        return None
    return born


def id_gender(number: str) -> str:
    return "male" if int(number[16]) % 2 else "female"


def mask_id_number(number: str) -> str:
    """4103**********1234: the first four and last four characters, nothing else."""
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_phone(phone: str) -> str:
    """+86138****1234: enough to recognise one's own number, not to call it."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:-8] + "****" + phone[-4:]


# GB 32100-2015: 17 characters from this alphabet (no I, O, Z, S, V), then a check character.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Validate an 18-character unified social credit code and return it normalised."""
    code = _fold(value).upper()
    if len(code) != 18:
        raise ValidationError(_("A unified social credit code has 18 characters."), code="credit_length")
    if any(c not in _CREDIT_ALPHABET for c in code):
        raise ValidationError(
            _("A unified social credit code uses digits and capital letters except I, O, Z, S and V."),
            code="credit_format",
        )
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The check character of this credit code is wrong; please check for a typing error."),
            code="credit_checksum",
        )
    return code


_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)


def normalise_cn_mobile(value: str) -> str:
    """Return a mainland mobile number as E.164 (+86...), or raise ValidationError."""
    raw = re.sub(r"[\s\-()]", "", _fold(value))
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086"):
        raw = raw[4:]
    if not _MOBILE_RE.match(raw):
        raise ValidationError(
            _("Enter a mainland China mobile number of 11 digits starting with 1."),
            code="phone_format",
        )
    return "+86" + raw


def mask_name(name: str) -> str:
    """张** for 张三丰: the family name for a public list, never the given name."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


class PasswordLengthValidator(MinimumLengthValidator):
    """Django's minimum length, with its message in the portal's catalogue: Django 5.2.19
    reworded it and its Chinese catalogue still has only the old wording, so sign-up showed
    the English sentence on a Chinese page."""

    def get_error_message(self):
        return (
            ngettext(
                "This password is too short. It must contain at least %d character.",
                "This password is too short. It must contain at least %d characters.",
                self.min_length,
            )
            % self.min_length
        )
