"""The privacy proof of issue #8: after a whole journey through the portal (profile with an ID
number, staff unmasking it in the admin, the graduate's export, applications in several
programmes, the account deleted), a pg_dump of the test database, the logs and the outboxes
hold no plaintext ID number; after the deletion not even its keyed hash or masked form. The
negative controls prove the scan sees a number planted in a table, a session, a log record
and an outbox."""

import datetime as dt
import logging

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from jobs import services as jobs_services
from portal import crypto, sms
from portal.constants import AuditAction, DeletionStatus
from portal.models import ApplicantProfile, AuditEntry, DeletionRequest
from portal.validators import mask_id_number
from subsidies import services as subsidy_services
from subsidies.models import Programme
from tests.apartments.conftest import PDF_BYTES, give_interview, housing_apply, make_project, make_round
from tests.events.factories import EventFactory
from tests.jobs.factories import PositionFactory
from tests.portal.factories import ProfileFactory, UserFactory, make_id_number
from tests.privacy_scan import LOG_CAPTURE, assert_no_plaintext, dump_database, find_plaintext

PASSWORD = "pass-word-123"
ID_NUMBER = "41030219990817100X"  # a valid number used by no other test


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_plaintext_id_number_after_the_whole_journey(client, district_1, staff_1):
    from events import services as event_services

    user = UserFactory()
    assert client.login(username=user.username, password=PASSWORD)

    # The graduate fills in the profile with the ID number (lower-case x), consents, uploads.
    response = client.post(
        reverse("portal:profile"),
        {
            "real_name": "王小明",
            "id_number": ID_NUMBER.lower(),
            "phone": "13912345678",
            "education_level": "bachelor",
            "school": "河南科技大学",
            "major": "机械工程",
            "graduation_date": (timezone.localdate() - dt.timedelta(days=180)).isoformat(),
            "hukou_province": "河南省",
            "hukou_city": "郑州市",
            "district": district_1.pk,
            "works_in_luoyang": "on",
        },
    )
    assert response.status_code == 302
    assert client.post(reverse("portal:consent"), {"agree": "on"}).status_code == 302
    upload = SimpleUploadedFile("毕业证.pdf", PDF_BYTES, content_type="application/pdf")
    client.post(reverse("portal:document_upload"), {"kind": "degree_certificate", "file": upload})
    profile = ApplicantProfile.objects.get(user=user)
    assert profile.id_number_masked == mask_id_number(ID_NUMBER)

    # Applications in four programmes, through their services.
    jobs_services.job_application_submit(
        position=PositionFactory(published=True), applicant=user, cover_note="期待加入贵公司。"
    )
    event_services.registration_create(event=EventFactory(published=True), user=user)
    housing_apply(user, make_round(make_project(district_1)))
    give_interview(user, starts_at=timezone.now() + dt.timedelta(days=3))
    subsidy_services.subsidy_application_create(
        programme=Programme.objects.get(code="interview-travel"), applicant=user
    )

    # District staff open the profile and unmask the number (audited).
    staff_client = client_class_for(client)
    staff_client.force_login(staff_1)
    unmasked = staff_client.post(
        reverse("admin:portal_applicantprofile_unmask", args=[profile.pk]), {"reason": "材料核验"}
    )
    assert ID_NUMBER in unmasked.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.PII_UNMASK, actor=staff_1).count() == 1

    # The graduate downloads their data: the number is in the file, nowhere else.
    export = client.get(reverse("portal:data_export"))
    assert ID_NUMBER in export.content.decode()

    # The dump is pg_dump's (the journey is committed) and holds the profile's ciphertext.
    assert not connection.in_atomic_block
    assert ApplicantProfile.objects.get(pk=profile.pk).id_number_encrypted in dump_database()
    assert_no_plaintext([ID_NUMBER])

    # The graduate deletes the account, signing in again first.
    reauth = client.post(reverse("portal:deletion_request"), {"confirm": "on"})
    assert "/accounts/reauthenticate/" in reauth["Location"]
    done = client.post(reauth["Location"], {"password": PASSWORD})
    assert done.status_code == 302
    request = DeletionRequest.objects.get(user=user)
    assert request.status == DeletionStatus.COMPLETED
    # The log scan is live: the task's own record of the run was captured.
    assert any(f"Account deletion request {request.pk} completed" in line for line in LOG_CAPTURE.lines)

    assert_no_plaintext([ID_NUMBER, crypto.keyed_hash(ID_NUMBER), mask_id_number(ID_NUMBER)])


def client_class_for(client):
    """A second browser: staff sign in beside the graduate's own session."""
    return type(client)()


# --- negative controls --------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_dump_finds_a_number_planted_in_a_free_text(district_1):
    number = make_id_number()
    profile = ProfileFactory(district=district_1, complete=True, id_number=number)
    assert find_plaintext([number], logs=False) == []

    ApplicantProfile.objects.filter(pk=profile.pk).update(school=f"学号 {number.lower()}")

    found = find_plaintext([number], logs=False)
    assert [f.where for f in found] == ["table portal_applicantprofile"]
    assert number not in str(found[0]) and "«needle 1»" in str(found[0])
    with pytest.raises(AssertionError, match="portal_applicantprofile"):
        assert_no_plaintext([number], logs=False)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_scan_decodes_sessions():
    number = make_id_number()
    session = SessionStore()
    session["draft"] = {"id_number": number}
    session.create()

    found = find_plaintext([number], logs=False)

    assert [f.where for f in found] == ["table django_session (decoded)"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_uncommitted_number_is_found_through_the_test_connection(district_1):
    """In a ``db`` test the rows are not committed, so pg_dump cannot see them; the scan reads
    the same data through the test's own connection instead."""
    number = make_id_number()
    profile = ProfileFactory(district=district_1, complete=True)
    ApplicantProfile.objects.filter(pk=profile.pk).update(major=number)

    assert [f.where for f in find_plaintext([number], logs=False)] == ["table portal_applicantprofile"]


def test_the_log_scan_finds_a_number_in_any_record():
    number = make_id_number()
    assert LOG_CAPTURE in logging.getLogger().handlers
    before = len(LOG_CAPTURE.lines)
    try:
        logging.getLogger("portal.views").warning("profile saved for %s", number)
        found = find_plaintext([number], database=False)
        assert [f.where for f in found] == ["log"]
        assert "portal.views" in found[0].context
    finally:
        del LOG_CAPTURE.lines[before:]  # the planted record must not fail later scans


def test_the_outbox_scan_allows_codes_but_finds_numbers():
    number = make_id_number()
    sms.send_sms(phone="+8613912345678", message="您的验证码是 123456")
    assert find_plaintext(["123456X"], database=False) == []

    sms.send_sms(phone="+8613912345678", message=f"身份证 {number}")

    assert [f.where for f in find_plaintext([number], database=False)] == ["sms outbox"]
