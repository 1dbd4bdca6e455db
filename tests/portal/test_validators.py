"""Resident ID numbers (GB 11643-1999), unified social credit codes (GB 32100-2015) and
mainland mobile numbers: real valid examples, and each way a number can be wrong."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portal.validators import (
    credit_code_check_char,
    id_birth_date,
    id_check_digit,
    id_gender,
    mask_id_number,
    mask_phone,
    normalise_cn_mobile,
    normalise_id_number,
    validate_credit_code,
    validate_id_number,
)
from tests.portal.factories import make_credit_code, make_id_number

# The example of GB 11643-1999 itself (a woman born in Beijing on 31 December 1949).
VALID_ID = "11010519491231002X"
# A real business licence's code, check character computed by GB 32100.
VALID_CREDIT_CODE = "91350100M000100Y43"


def _with_check_digit(first17: str) -> str:
    return first17 + id_check_digit(first17)


def _error_code(exc_info) -> str:
    return exc_info.value.error_list[0].code


# --- Resident ID numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        VALID_ID,
        "11010519491231002x",  # lower-case x is the same number
        " 110105 19491231 002X ",  # spaces typed or pasted around and inside
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width characters from a Chinese input method
    ],
)
def test_valid_id_number_is_returned_normalised(value):
    assert validate_id_number(value) == VALID_ID


def test_check_digit_of_the_standard_example():
    assert id_check_digit(VALID_ID[:17]) == "X"


def test_generated_numbers_are_valid():
    for seq in range(0, 1000, 37):
        number = make_id_number(born=dt.date(1998, 2, 28), seq=seq)
        assert validate_id_number(number) == number


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "id_checksum"),  # last digit changed
        ("11010519491231003X", "id_checksum"),  # one digit of the sequence changed
        ("11010519491321002X", "id_birth_date"),  # digits swapped into month 13
        (_with_check_digit("41030219900230123"), "id_birth_date"),  # 30 February
        (_with_check_digit("41030219010229123"), "id_birth_date"),  # 1901 was not a leap year
        (_with_check_digit("41030218991231123"), "id_birth_date"),  # before 1900
        (_with_check_digit("41030229990101123"), "id_birth_date"),  # born in the future
        ("11010519491231002", "id_length"),  # 17 characters
        ("11010519491231002XX", "id_length"),  # 19 characters
        ("110105491231002", "id_length"),  # the old 15-digit format
        ("", "id_length"),
        ("1101051949123100AX", "id_format"),  # a letter other than X
        ("X1010519491231002X", "id_format"),  # X only allowed as the check character
        ("11010519491231002Y", "id_format"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "id_format"),  # Arabic-Indic digits are digits to Python, not to GB 11643
    ],
)
def test_invalid_id_number_is_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(value)
    assert _error_code(exc_info) == code
    assert exc_info.value.messages[0]


def test_leap_day_birth_date_is_valid():
    number = _with_check_digit("41030220000229123")
    assert validate_id_number(number) == number
    assert id_birth_date(number) == dt.date(2000, 2, 29)


def test_normalise_id_number():
    assert normalise_id_number(" 11010519491231002x ") == VALID_ID
    assert normalise_id_number(None) == ""


def test_birth_date_is_derived_from_the_number():
    assert id_birth_date(VALID_ID) == dt.date(1949, 12, 31)
    assert id_birth_date(make_id_number(born=dt.date(2001, 7, 9))) == dt.date(2001, 7, 9)


@pytest.mark.parametrize(
    ("seq", "gender"), [(1, "male"), (3, "male"), (9, "male"), (0, "female"), (2, "female"), (8, "female")]
)
def test_gender_is_derived_from_the_seventeenth_digit(seq, gender):
    number = make_id_number(born=dt.date(2000, 1, 1), seq=seq)
    assert number[16] == str(seq)
    assert id_gender(number) == gender


def test_standard_example_is_a_woman():
    assert id_gender(VALID_ID) == "female"


def test_mask_id_number_shows_the_first_and_last_four_only():
    assert mask_id_number("410302199003071234") == "4103**********1234"
    assert mask_id_number(VALID_ID) == "1101**********002X"
    assert len(mask_id_number(VALID_ID)) == 18
    assert "19491231" not in mask_id_number(VALID_ID)


def test_mask_id_number_of_nothing_is_empty():
    assert mask_id_number("") == ""


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+8613812341234", "+86138****1234"),
        ("13812341234", "138****1234"),
        ("1234567", "*******"),  # too short to show any of it
        ("", ""),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


# --- Unified social credit codes ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [VALID_CREDIT_CODE, "91350100m000100y43", " 91350100 M000100Y43 ", "９１３５０１００Ｍ０００１００Ｙ４３"],
)
def test_valid_credit_code_is_returned_normalised(value):
    assert validate_credit_code(value) == VALID_CREDIT_CODE


def test_credit_code_check_character_of_the_example():
    assert credit_code_check_char(VALID_CREDIT_CODE[:17]) == "3"


def test_generated_credit_codes_are_valid():
    for _ in range(50):
        code = make_credit_code()
        assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y44", "credit_checksum"),  # wrong check character
        ("91350100M000100Y4A", "credit_checksum"),
        ("91350100M000101Y43", "credit_checksum"),  # one body character changed
        ("91350100I000100Y43", "credit_format"),  # I, O, Z, S and V are never used
        ("91350100O000100Y43", "credit_format"),
        ("91350100Z000100Y43", "credit_format"),
        ("91350100S000100Y43", "credit_format"),
        ("91350100V000100Y43", "credit_format"),
        ("91350100M000100Y4-", "credit_format"),
        ("91350100M000100Y4", "credit_length"),  # 17 characters
        ("91350100M000100Y433", "credit_length"),  # 19 characters
        ("350100000100043", "credit_length"),  # an old 15-digit registration number
        ("", "credit_length"),
    ],
)
def test_invalid_credit_code_is_refused_with_a_reason(value, code):
    with pytest.raises(ValidationError) as exc_info:
        validate_credit_code(value)
    assert _error_code(exc_info) == code
    assert exc_info.value.messages[0]


# --- Mainland mobile numbers -----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13812341234",
        "+8613812341234",
        "008613812341234",
        "+86 138 1234 1234",
        "138-1234-1234",
        "(+86) 138 1234 1234",
        "１３８１２３４１２３４",  # full-width digits from a Chinese input method
    ],
)
def test_mobile_number_is_normalised_to_e164(value):
    assert normalise_cn_mobile(value) == "+8613812341234"


@pytest.mark.parametrize(
    "value",
    [
        "1381234123",  # 10 digits
        "138123412345",  # 12 digits
        "12812341234",  # no mobile prefix starts with 12
        "23812341234",
        "03796000000",  # a Luoyang landline
        "+8523812341234",  # a Hong Kong prefix
        "1381234123a",
        "13٨١٢٣٤١٢٣٤",  # Arabic-Indic digits after an ASCII 13
        "",
    ],
)
def test_invalid_mobile_number_is_refused(value):
    with pytest.raises(ValidationError) as exc_info:
        normalise_cn_mobile(value)
    assert _error_code(exc_info) == "phone_format"


def test_the_password_length_message_is_in_chinese():
    from django.contrib.auth.password_validation import validate_password

    with pytest.raises(ValidationError) as short:
        validate_password("x7#")
    assert "密码太短" in " ".join(short.value.messages)
