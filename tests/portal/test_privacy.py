"""PIPL handling of the applicant profile: the ID number is never stored or shown in
plaintext, is unique through its keyed hash, every staff look at it is audited, and the
separate consent can be given and withdrawn."""

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import translation

from portal import crypto, selectors, services
from portal.constants import AuditAction
from portal.models import ApplicantProfile, AuditEntry, Consent
from tests.portal.factories import ProfileFactory, UserFactory, make_id_number

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
MASKED = "1101**********002X"
# The part the mask hides: found anywhere, it would be a leak even without the rest.
HIDDEN_PART = ID_NUMBER[4:-4]


@pytest.fixture
def client_en(client):
    """Pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def profile(district_1):
    return ProfileFactory(district=district_1, complete=True, id_number=ID_NUMBER, real_name="张三")


def _admin_change_url(profile):
    return reverse("admin:portal_applicantprofile_change", args=[profile.pk])


def _unmask_url(profile):
    return reverse("admin:portal_applicantprofile_unmask", args=[profile.pk])


def _every_stored_value():
    """Every value of every row of every table of the test database, as text; session
    data decoded, since it is stored base64-encoded."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (table names come from introspection)
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes):
                        value = bytes(value).decode("utf-8", "replace")
                    yield table, str(value)
            if table == "django_session":
                cursor.execute("SELECT session_data FROM django_session")
                for (data,) in cursor.fetchall():
                    yield table, str(SessionStore().decode(data))


def _assert_no_plaintext_anywhere():
    leaks = [table for table, value in _every_stored_value() if ID_NUMBER in value.upper() or HIDDEN_PART in value]
    assert leaks == []


# --- At rest ---------------------------------------------------------------------------


def test_raw_profile_row_holds_no_plaintext_id_number():
    user = UserFactory()
    services.profile_update(user=user, data={"real_name": "张三"}, id_number=ID_NUMBER)

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_applicantprofile")
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()

    assert len(rows) == 1
    row = dict(zip(columns, rows[0], strict=True))
    assert all(ID_NUMBER not in str(v).upper() and HIDDEN_PART not in str(v) for v in row.values())
    assert row["id_number_masked"] == MASKED
    assert row["id_number_hash"] == crypto.keyed_hash(ID_NUMBER)
    assert row["id_number_encrypted"]
    assert crypto.decrypt(row["id_number_encrypted"]) == ID_NUMBER


def test_derived_facts_are_stored_but_not_the_number():
    user = UserFactory()
    profile = services.profile_update(user=user, data={}, id_number=ID_NUMBER)

    profile.refresh_from_db()
    assert str(profile.birth_date) == "1949-12-31"
    assert profile.gender == "female"
    assert profile.reveal_id_number() == ID_NUMBER


def test_hash_is_keyed_not_a_plain_digest(settings):
    import hashlib

    assert crypto.keyed_hash(ID_NUMBER) != hashlib.sha256(ID_NUMBER.encode()).hexdigest()
    before = crypto.keyed_hash(ID_NUMBER)
    settings.PII_HASH_KEY = "another-key"
    assert crypto.keyed_hash(ID_NUMBER) != before


def test_no_table_holds_the_plaintext_after_the_whole_journey(client_en, district_1, staff_1):
    """Saved through the page, opened, unmasked, searched and exported by staff: the number
    is nowhere in the database, neither in the profile nor in the audit trail or sessions."""
    user = UserFactory()
    client_en.force_login(user)
    response = client_en.post(
        reverse("portal:profile"),
        {"real_name": "张三", "id_number": ID_NUMBER.lower(), "district": district_1.pk},
    )
    assert response.status_code == 302
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.id_number_masked == MASKED

    client_en.force_login(staff_1)
    assert client_en.get(_admin_change_url(profile)).status_code == 200
    assert ID_NUMBER in client_en.post(_unmask_url(profile), {"reason": "review"}).content.decode()
    assert client_en.get(reverse("admin:portal_applicantprofile_changelist"), {"q": ID_NUMBER}).status_code == 200
    export = client_en.post(
        reverse("admin:portal_applicantprofile_changelist"),
        {"action": "export_csv", "index": 0, "_selected_action": [profile.pk]},
    )
    assert export["Content-Type"].startswith("text/csv")
    assert MASKED in export.content.decode("utf-8-sig")
    assert ID_NUMBER not in export.content.decode("utf-8-sig")

    assert AuditEntry.objects.filter(action=AuditAction.PII_UNMASK).count() == 1
    _assert_no_plaintext_anywhere()


def test_the_scan_would_see_a_plaintext_number(profile):
    """Negative control: the scan above finds the number when it is stored in clear."""
    ApplicantProfile.objects.filter(pk=profile.pk).update(school=f"学号 {ID_NUMBER}")
    with pytest.raises(AssertionError):
        _assert_no_plaintext_anywhere()


# --- Uniqueness through the keyed hash ------------------------------------------------


@pytest.mark.parametrize("spelling", [ID_NUMBER, ID_NUMBER.lower(), "１１０１０５１９４９１２３１００２Ｘ"])
def test_duplicate_id_number_is_refused_on_the_field(profile, spelling):
    other = UserFactory()

    with translation.override("en"), pytest.raises(ValidationError) as exc_info:
        services.profile_update(user=other, data={"real_name": "李四"}, id_number=spelling)

    errors = exc_info.value.message_dict
    assert list(errors) == ["id_number"]
    assert "already registered to another account" in errors["id_number"][0]
    # Nothing of the refused update was saved.
    assert not ApplicantProfile.objects.filter(user=other, real_name="李四").exists()
    assert ApplicantProfile.objects.filter(id_number_hash=crypto.keyed_hash(ID_NUMBER)).get() == profile


def test_owner_may_save_the_same_number_again(profile):
    services.profile_update(user=profile.user, data={"school": "洛阳理工学院"}, id_number=ID_NUMBER)

    profile.refresh_from_db()
    assert profile.school == "洛阳理工学院"
    assert profile.reveal_id_number() == ID_NUMBER


def test_owner_may_replace_the_number(profile):
    new_number = make_id_number()
    services.profile_update(user=profile.user, data={}, id_number=new_number)

    profile.refresh_from_db()
    assert profile.reveal_id_number() == new_number
    assert profile.id_number_hash == crypto.keyed_hash(new_number)
    # The old number is free again for its real owner.
    services.profile_update(user=UserFactory(), data={}, id_number=ID_NUMBER)


def test_invalid_id_number_is_refused_on_the_field():
    user = UserFactory()
    with pytest.raises(ValidationError) as exc_info:
        services.profile_update(user=user, data={}, id_number="110105194912310021")

    assert list(exc_info.value.message_dict) == ["id_number"]
    assert not ApplicantProfile.objects.filter(user=user).exclude(id_number_encrypted="").exists()


def test_duplicate_id_number_through_the_profile_page(client_en, profile):
    other = UserFactory()
    client_en.force_login(other)

    response = client_en.post(reverse("portal:profile"), {"real_name": "李四", "id_number": ID_NUMBER})

    assert response.status_code == 200
    assert "already registered to another account" in response.context["form"].errors["id_number"][0]
    assert "already registered to another account" in response.content.decode()
    assert not ApplicantProfile.objects.get(user=other).has_id_number


def test_invalid_id_number_through_the_profile_page(client_en):
    client_en.force_login(UserFactory())

    response = client_en.post(reverse("portal:profile"), {"real_name": "李四", "id_number": "11010519490230002X"})

    assert response.status_code == 200
    assert response.context["form"].errors["id_number"]


# --- Masked display -------------------------------------------------------------------


def test_owner_profile_page_shows_the_number_masked(client_en, profile):
    client_en.force_login(profile.user)

    content = client_en.get(reverse("portal:profile")).content.decode()

    assert MASKED in content
    assert ID_NUMBER not in content
    assert HIDDEN_PART not in content


def test_api_returns_the_number_masked(client_en, profile):
    client_en.force_login(profile.user)

    response = client_en.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["id_number_masked"] == MASKED
    assert "id_number" not in response.json()
    assert ID_NUMBER not in response.content.decode()


def test_admin_list_and_change_page_show_the_number_masked(client_en, profile, staff_1):
    client_en.force_login(staff_1)

    listing = client_en.get(reverse("admin:portal_applicantprofile_changelist")).content.decode()
    change = client_en.get(_admin_change_url(profile)).content.decode()

    for content in (listing, change):
        assert MASKED in content
        assert ID_NUMBER not in content
        assert HIDDEN_PART not in content
    assert crypto.keyed_hash(ID_NUMBER) not in change
    assert "Show full ID number (audited)" in change


# --- Unmasking and viewing are audited ------------------------------------------------


def test_staff_unmasking_writes_an_audit_entry(profile, staff_1):
    number = services.profile_unmask_id_number(profile=profile, actor=staff_1, reason="材料核验")

    assert number == ID_NUMBER
    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.PII_UNMASK
    assert entry.actor == staff_1
    assert entry.target == profile
    assert entry.reason == "材料核验"
    assert entry.detail == {"field": "id_number"}
    assert ID_NUMBER not in str(entry.detail) + entry.reason


def test_owner_unmasking_writes_no_audit_entry(profile):
    assert services.profile_unmask_id_number(profile=profile, actor=profile.user) == ID_NUMBER
    assert not AuditEntry.objects.exists()


def test_admin_unmask_button_audits_and_shows_the_number(client_en, profile, staff_1):
    client_en.force_login(staff_1)

    response = client_en.post(_unmask_url(profile), {"reason": "review"})

    assert response.status_code == 200
    assert ID_NUMBER in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    entry = AuditEntry.objects.get(action=AuditAction.PII_UNMASK)
    assert (entry.actor, entry.object_id, entry.reason) == (staff_1, str(profile.pk), "review")


def test_admin_unmask_by_city_staff(client_en, profile, city_staff):
    client_en.force_login(city_staff)

    response = client_en.post(_unmask_url(profile))

    assert ID_NUMBER in response.content.decode()
    assert AuditEntry.objects.get(action=AuditAction.PII_UNMASK).actor == city_staff


def test_admin_unmask_by_staff_of_another_district_is_404(client_en, profile, staff_2):
    client_en.force_login(staff_2)

    response = client_en.post(_unmask_url(profile), {"reason": "review"})

    assert response.status_code == 404
    assert ID_NUMBER not in response.content.decode()
    assert not AuditEntry.objects.exists()


def test_admin_unmask_needs_a_post(client_en, profile, staff_1):
    client_en.force_login(staff_1)

    response = client_en.get(_unmask_url(profile))

    assert response.status_code == 302
    assert response["Location"] == _admin_change_url(profile)
    assert not AuditEntry.objects.filter(action=AuditAction.PII_UNMASK).exists()


@pytest.mark.parametrize("role", ["graduate", "anonymous"])
def test_admin_unmask_is_closed_to_non_staff(client_en, profile, graduate_b, role):
    if role == "graduate":
        client_en.force_login(graduate_b)

    response = client_en.post(_unmask_url(profile))

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not AuditEntry.objects.exists()


def test_opening_the_admin_change_page_writes_a_view_entry(client_en, profile, staff_1):
    client_en.force_login(staff_1)

    assert client_en.get(_admin_change_url(profile)).status_code == 200

    entry = AuditEntry.objects.get()
    assert entry.action == AuditAction.PII_VIEW
    assert entry.actor == staff_1
    assert entry.target == profile


def test_opening_a_profile_of_another_district_writes_nothing(client_en, profile, staff_2):
    client_en.force_login(staff_2)

    client_en.get(_admin_change_url(profile))

    assert not AuditEntry.objects.exists()


# --- Search by exact ID number ---------------------------------------------------------


@pytest.mark.parametrize("term", [ID_NUMBER, ID_NUMBER.lower(), f" {ID_NUMBER} "])
def test_admin_search_by_exact_id_number_uses_the_keyed_hash(client_en, profile, staff_1, district_1, term):
    ProfileFactory(district=district_1, complete=True)
    client_en.force_login(staff_1)

    response = client_en.get(reverse("admin:portal_applicantprofile_changelist"), {"q": term})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [profile]


def test_admin_search_by_an_unknown_id_number_finds_nothing(client_en, profile, staff_1):
    client_en.force_login(staff_1)

    response = client_en.get(reverse("admin:portal_applicantprofile_changelist"), {"q": make_id_number()})

    assert list(response.context["cl"].result_list) == []


def test_admin_search_by_id_number_stays_in_the_staff_districts(client_en, profile, staff_2):
    client_en.force_login(staff_2)

    response = client_en.get(reverse("admin:portal_applicantprofile_changelist"), {"q": ID_NUMBER})

    assert list(response.context["cl"].result_list) == []


# --- Consent ---------------------------------------------------------------------------


def _consent_missing(profile) -> bool:
    with translation.override("en"):
        completeness = selectors.profile_completeness(profile=profile)
    return "Consent to processing personal information" in completeness.missing


def test_consent_is_recorded_with_time_and_version():
    user = UserFactory()

    consent = services.consent_give(user=user)

    assert consent.version == settings.PORTAL_CONSENT_VERSION
    assert consent.granted_at is not None
    assert consent.withdrawn_at is None
    assert selectors.has_current_consent(user=user)


def test_giving_consent_twice_keeps_one_record():
    user = UserFactory()

    first = services.consent_give(user=user)
    second = services.consent_give(user=user)

    assert first == second
    assert Consent.objects.filter(user=user).count() == 1


def test_consent_to_an_older_notice_does_not_count():
    user = UserFactory()

    services.consent_give(user=user, version="2020-01")

    assert not selectors.has_current_consent(user=user)


def test_withdrawal_makes_the_profile_incomplete(profile):
    assert not _consent_missing(profile)
    percent_before = selectors.profile_completeness(profile=profile).percent

    assert services.consent_withdraw(user=profile.user) == 1

    consent = Consent.objects.get(user=profile.user)
    assert consent.withdrawn_at is not None
    assert not selectors.has_current_consent(user=profile.user)
    assert _consent_missing(profile)
    assert selectors.profile_completeness(profile=profile).percent < percent_before


def test_consent_can_be_given_again_after_withdrawal(profile):
    services.consent_withdraw(user=profile.user)

    services.consent_give(user=profile.user)

    assert Consent.objects.filter(user=profile.user).count() == 2
    assert selectors.has_current_consent(user=profile.user)
    assert not _consent_missing(profile)


def test_consent_through_the_profile_page(client_en):
    user = UserFactory()
    client_en.force_login(user)

    refused = client_en.post(reverse("portal:consent"), {}, follow=True)
    assert not selectors.has_current_consent(user=user)
    assert "Please tick the box" in refused.content.decode()

    client_en.post(reverse("portal:consent"), {"agree": "on"})
    assert selectors.has_current_consent(user=user)

    withdrawn = client_en.post(reverse("portal:consent"), {"withdraw": "1"}, follow=True)
    assert not selectors.has_current_consent(user=user)
    assert "Consent to processing personal information" in withdrawn.content.decode()
