"""A graduate deletes their account (PIPL art. 47, ADR 0009): the page says what goes and what
stays and asks for a fresh sign-in; open applications are withdrawn; open obligations refuse
the request with a list; the task anonymises every programme's rows and keeps the decisions;
staff of the district read the request in the admin."""

import datetime as dt
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from apartments.constants import HousingApplicationStatus, LeaseStatus, OfferStatus, StayStatus
from apartments.models import BedAlert, FollowUp, HousingApplication, HousingOffer, Lease, LeaseRecheck, Stay, Unit
from events.constants import RegistrationStatus
from events.models import CalendarFeed, Registration, Subscription
from jobs.constants import ApplicationStatus
from jobs.models import Interview, JobApplication
from portal import crypto, services
from portal.constants import AuditAction, DeletionStatus, Role
from portal.models import (
    ApplicantProfile,
    AuditEntry,
    Consent,
    DeletionRequest,
    Delivery,
    Document,
    Notification,
)
from portal.services.deletion import STALE_REQUEST_AFTER
from subsidies.constants import SubsidyStatus
from subsidies.models import EligibilityCheck, LedgerEntry, Objection, SubsidyApplication
from tests.apartments.factories import StayFactory
from tests.portal.factories import ProfileFactory
from tests.portal.privacy_rows import PRIVATE_TEXT, _subsidy, graduate_with_rows, log_profile_change

pytestmark = pytest.mark.django_db

URL = reverse("portal:deletion_request")
PASSWORD = "pass-word-123"  # tests.portal.factories.UserFactory


def _delete(user, capture):
    with capture(execute=True):
        return services.deletion_request(user=user)


# --- the page ------------------------------------------------------------------------------------


def test_the_profile_page_links_to_the_deletion_page(client, graduate_a):
    client.force_login(graduate_a)
    assert URL in client.get(reverse("portal:profile")).content.decode()


def test_the_page_says_what_goes_and_what_stays(client, graduate_a):
    client.force_login(graduate_a)

    response = client.get(URL)

    content = response.content.decode()
    assert response.status_code == 200
    assert 'id="deleted-list"' in content and 'id="kept-list"' in content
    assert 'id="deletion-form"' in content
    assert 'id="obligations"' not in content
    assert reverse("portal:data_export") in content


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_deleting_needs_a_fresh_sign_in_then_closes_the_account(client, graduate_a, django_capture_on_commit_callbacks):
    client.force_login(graduate_a)

    first = client.post(URL, {"confirm": "on"})

    assert first.status_code == 302 and "/accounts/reauthenticate/" in first["Location"]
    assert not DeletionRequest.objects.exists()
    graduate_a.refresh_from_db()
    assert graduate_a.is_active

    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(first["Location"], {"password": PASSWORD})

    assert resumed.status_code == 302 and resumed["Location"] == reverse("portal:home")
    request = DeletionRequest.objects.get(user=graduate_a)
    assert request.status == DeletionStatus.COMPLETED
    graduate_a.refresh_from_db()
    assert not graduate_a.is_active and not graduate_a.has_usable_password()
    # Signed out, and cannot sign in again.
    assert client.get(reverse("portal:profile")).status_code == 302
    assert not client.login(username=f"deleted-{graduate_a.pk}", password=PASSWORD)


def test_the_box_must_be_ticked(client, graduate_a):
    client.force_login(graduate_a)
    reauth = client.post(URL, {})
    response = client.post(reauth["Location"], {"password": PASSWORD})

    assert response.status_code == 200
    assert response.context["form"].errors["confirm"]
    assert not DeletionRequest.objects.exists()
    graduate_a.refresh_from_db()
    assert graduate_a.is_active


def test_the_page_lists_obligations_and_offers_no_form(client, graduate_a):
    StayFactory(applicant=graduate_a, checked_in=True)
    client.force_login(graduate_a)

    content = client.get(URL).content.decode()

    assert 'id="obligations"' in content
    assert 'id="deletion-form"' not in content


# --- what goes, what stays -------------------------------------------------------------------------


@pytest.fixture
def rows(district_1):
    return graduate_with_rows(district_1)


def test_open_applications_are_withdrawn_on_request(rows, django_capture_on_commit_callbacks):
    user = rows["user"]

    request = _delete(user, django_capture_on_commit_callbacks)

    assert JobApplication.objects.get(pk=rows["job_open"].pk).status == ApplicationStatus.WITHDRAWN
    assert Registration.objects.get(pk=rows["registration_open"].pk).status == RegistrationStatus.CANCELLED
    assert Stay.objects.get(pk=rows["stay_open"].pk).status == StayStatus.CANCELLED
    assert HousingApplication.objects.get(pk=rows["housing_open"].pk).status == HousingApplicationStatus.WITHDRAWN
    assert SubsidyApplication.objects.get(pk=rows["subsidy_open"].pk).status == SubsidyStatus.WITHDRAWN
    assert len(request.withdrawn) == 5
    # Closed ones keep their status.
    assert JobApplication.objects.get(pk=rows["job_closed"].pk).status == ApplicationStatus.REJECTED
    assert SubsidyApplication.objects.get(pk=rows["subsidy_paid"].pk).status == SubsidyStatus.PAID
    # Each withdrawal is audited with the graduate as actor.
    withdrawals = AuditEntry.objects.filter(action=AuditAction.TRANSITION, actor=user, to_status__in=["withdrawn"])
    assert withdrawals.count() == 3  # job, housing, subsidy (stays and registrations go to "cancelled")


def test_the_account_and_profile_are_anonymised(rows, staff_1, client, django_capture_on_commit_callbacks):
    user, profile = rows["user"], rows["profile"]
    number = profile.reveal_id_number()
    born = profile.birth_date
    client.force_login(user)  # a live session on some device
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"})
    Token.objects.create(user=user)
    entry = log_profile_change(profile, staff_1)
    files = [(d.file.storage, d.file.name) for d in rows["documents"]]
    assert all(storage.exists(name) for storage, name in files)

    request = _delete(user, django_capture_on_commit_callbacks)

    user.refresh_from_db()
    profile.refresh_from_db()
    pseudonym = f"已注销用户 #{user.pk}"
    assert request.pseudonym == pseudonym and str(request) == pseudonym
    assert (user.username, user.email, user.phone, user.first_name) == (f"deleted-{user.pk}", None, None, "")
    assert not user.is_active and not user.has_usable_password() and user.role == Role.GRADUATE
    assert profile.real_name == pseudonym
    assert (profile.id_number_encrypted, profile.id_number_hash, profile.id_number_masked) == ("", None, "")
    assert profile.birth_date == dt.date(born.year, 1, 1)
    assert profile.graduation_date.month == 1 and profile.graduation_date.day == 1
    assert (profile.phone, profile.school, profile.major, profile.hukou_city, profile.current_employer) == ("",) * 5
    assert profile.education_level and profile.district_id  # kept for statistics
    assert not Document.objects.filter(owner=user).exists()
    assert not any(storage.exists(name) for storage, name in files)
    assert not Notification.objects.filter(user=user).exists()
    assert not EmailAddress.objects.filter(user=user).exists()
    assert not Authenticator.objects.filter(user=user).exists()
    assert not Token.objects.filter(user=user).exists()
    assert not any(str(s.get_decoded().get("_auth_user_id")) == str(user.pk) for s in Session.objects.all())
    assert Consent.objects.filter(user=user).exists()
    assert not Consent.objects.filter(user=user, withdrawn_at__isnull=True).exists()
    entry.refresh_from_db()
    assert entry.object_repr == pseudonym
    # The number is free again: its real owner can register it on a new account.
    other = ProfileFactory(complete=True, id_number=number)
    assert other.id_number_hash == crypto.keyed_hash(number)


def test_every_programme_keeps_decisions_and_loses_personal_data(rows, django_capture_on_commit_callbacks):
    user = rows["user"]

    _delete(user, django_capture_on_commit_callbacks)

    job = JobApplication.objects.get(pk=rows["job_closed"].pk)
    assert (job.status, job.status_reason) == (ApplicationStatus.REJECTED, "岗位已满")
    assert job.cover_note == "" and job.cv_id is None and not job.shared_documents.exists()
    assert not Interview.objects.filter(application=job).exclude(note="").exists()

    registration = Registration.objects.get(pk=rows["registration_past"].pk)
    assert registration.status == RegistrationStatus.ATTENDED and registration.answers == {}
    assert not Subscription.objects.filter(user=user).exists()
    assert not CalendarFeed.objects.filter(user=user).exists()

    stay = Stay.objects.get(pk=rows["stay_closed"].pk)
    assert stay.status == StayStatus.CHECKED_OUT and stay.invitation_document_id is None
    assert stay.eligibility["anonymised"] and stay.eligibility["eligible"] is True
    assert all("message" not in c for c in stay.eligibility["criteria"])
    assert [c["code"] for c in stay.eligibility["criteria"]] == ["hukou", "graduation"]
    follow_up = FollowUp.objects.get(stay=stay)
    assert (follow_up.outcome, follow_up.employer, follow_up.note) == ("searching", "", "")
    assert not BedAlert.objects.filter(user=user).exists()

    housing = HousingApplication.objects.get(pk=rows["housing_closed"].pk)
    assert (housing.status, housing.status_reason, housing.note) == (HousingApplicationStatus.REJECTED, "材料不全", "")
    assert not housing.documents.exists() and housing.eligibility["anonymised"]
    lease = Lease.objects.get(pk=rows["lease_ended"].pk)
    assert (lease.tenant_id, lease.status, lease.monthly_rent, lease.rent_free_months) == (
        user.pk,
        LeaseStatus.ENDED,
        Decimal("1200.00"),
        3,
    )
    assert lease.move_out_notes == ""
    assert LeaseRecheck.objects.get(lease=lease).employer == ""

    paid = SubsidyApplication.objects.get(pk=rows["subsidy_paid"].pk)
    assert (paid.status, paid.amount) == (SubsidyStatus.PAID, Decimal("500.00"))
    assert paid.details == {"months": 2, "monthly_rent": "1500.00"}
    assert not paid.documents.exists() and paid.eligibility["anonymised"]
    assert LedgerEntry.objects.get(application=paid).payment_reference == "PAY-2026-0001"
    assert EligibilityCheck.objects.get(application=paid).result["anonymised"]
    assert Objection.objects.get(application=paid).text == ""


def test_employers_inboxes_name_the_pseudonym(rows, django_capture_on_commit_callbacks):
    user, name = rows["user"], rows["profile"].real_name
    employer = rows["job_open"].position.organisation.memberships.get().user

    request = _delete(user, django_capture_on_commit_callbacks)

    told = Notification.objects.get(user=employer, kind="application_withdrawn")
    assert name not in told.title + told.body
    assert request.pseudonym in told.title + told.body


def test_the_request_and_its_execution_are_audited(rows, django_capture_on_commit_callbacks):
    request = _delete(rows["user"], django_capture_on_commit_callbacks)

    entries = list(
        AuditEntry.objects.filter(action=AuditAction.DELETION, object_id=str(request.pk)).order_by("created_at", "id")
    )
    assert [(e.from_status, e.to_status) for e in entries] == [("", "requested"), ("requested", "completed")]
    assert entries[0].actor == rows["user"] and entries[1].actor is None
    assert entries[1].detail["summary"]["jobs"]["applications"] == 2
    assert PRIVATE_TEXT not in str([e.detail for e in entries])


def test_deletion_is_idempotent(rows, django_capture_on_commit_callbacks):
    user = rows["user"]
    request = _delete(user, django_capture_on_commit_callbacks)
    completed_at = request.completed_at or DeletionRequest.objects.get(pk=request.pk).completed_at

    again = services.deletion_execute(request_id=request.pk)
    assert again.completed_at == completed_at
    assert services.deletion_request(user=user).pk == request.pk
    assert DeletionRequest.objects.count() == 1
    assert AuditEntry.objects.filter(action=AuditAction.DELETION).count() == 2


def test_a_half_done_run_is_finished_by_running_again(rows, django_capture_on_commit_callbacks):
    """The task died after the apps' part: running it again completes the job."""
    user = rows["user"]
    with django_capture_on_commit_callbacks(execute=False):
        request = services.deletion_request(user=user)
    JobApplication.objects.filter(applicant=user).update(cover_note="")  # part of the work already done

    services.deletion_execute(request_id=request.pk)

    request.refresh_from_db()
    assert request.status == DeletionStatus.COMPLETED
    assert ApplicantProfile.objects.get(user=user).id_number_hash is None


def test_a_lost_task_is_finished_by_the_nightly_job(rows, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):  # the broker lost the message
        request = services.deletion_request(user=rows["user"])
    assert DeletionRequest.objects.get(pk=request.pk).status == DeletionStatus.REQUESTED

    counts = services.retention_run(now=timezone.now() + STALE_REQUEST_AFTER + dt.timedelta(minutes=1))

    assert counts["deletion_requests"] == 1
    assert DeletionRequest.objects.get(pk=request.pk).status == DeletionStatus.COMPLETED


def test_a_notification_queued_before_the_deletion_is_skipped(rows, django_capture_on_commit_callbacks):
    user = rows["user"]
    notification = services.notify(user=user, kind="organisation_verified", context={"organisation": "测试"})
    delivery_ids = list(Delivery.objects.filter(notification=notification).values_list("pk", flat=True))
    assert len(delivery_ids) == 2  # e-mail and SMS, queued for after commit

    _delete(user, django_capture_on_commit_callbacks)

    assert [services.delivery_send(delivery_id=pk) for pk in delivery_ids] == [None, None]


# --- obligations -----------------------------------------------------------------------------------


def _refused(user, capture) -> list[str]:
    with pytest.raises(services.DeletionRefused) as exc_info:
        _delete(user, capture)
    assert not DeletionRequest.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.is_active
    return exc_info.value.messages


def test_an_active_lease_refuses_the_request(rows, django_capture_on_commit_callbacks):
    user = rows["user"]
    unit = Unit.objects.filter(project=rows["project"]).exclude(leases__isnull=False).first()
    Lease.objects.create(
        unit=unit,
        tenant=user,
        start=timezone.localdate(),
        end=timezone.localdate() + dt.timedelta(days=365),
        monthly_rent=Decimal("900.00"),
    )

    messages = _refused(user, django_capture_on_commit_callbacks)

    assert len(messages) == 1 and unit.number in messages[0]
    # Nothing was withdrawn either.
    assert JobApplication.objects.get(pk=rows["job_open"].pk).status == ApplicationStatus.SUBMITTED


def test_a_checked_in_stay_and_an_open_offer_refuse_the_request(
    graduate_a, district_1, django_capture_on_commit_callbacks
):
    from tests.apartments.conftest import make_project, make_round

    StayFactory(applicant=graduate_a, checked_in=True)
    project = make_project(district_1)
    application = HousingApplication.objects.create(
        round=make_round(project, status="drawn"),
        applicant=graduate_a,
        status=HousingApplicationStatus.APPROVED,
    )
    HousingOffer.objects.create(
        application=application,
        unit=Unit.objects.filter(project=project).first(),
        status=OfferStatus.OFFERED,
        deadline=timezone.now() + dt.timedelta(days=3),
    )

    assert len(_refused(graduate_a, django_capture_on_commit_callbacks)) == 2


def test_money_not_yet_paid_refuses_the_request(graduate_a, district_1, django_capture_on_commit_callbacks):
    from subsidies.models import Programme

    _subsidy(
        Programme.objects.get(code="interview-travel"), graduate_a, district_1, status=SubsidyStatus.PAYABLE, key="p"
    )

    messages = _refused(graduate_a, django_capture_on_commit_callbacks)

    assert len(messages) == 1 and "S0" in messages[0]


def test_an_employers_claim_about_the_graduate_refuses_the_request(
    graduate_a, employer_x, district_1, django_capture_on_commit_callbacks
):
    from subsidies.models import Programme

    claim = _subsidy(
        Programme.objects.get(code="employer-hiring"), employer_x, district_1, status=SubsidyStatus.SUBMITTED, key="c"
    )
    SubsidyApplication.objects.filter(pk=claim.pk).update(beneficiary=graduate_a)

    assert len(_refused(graduate_a, django_capture_on_commit_callbacks)) == 1


def test_a_housing_application_after_the_draw_is_withdrawn_by_the_portal(
    graduate_a, district_1, django_capture_on_commit_callbacks
):
    from tests.apartments.conftest import make_project, make_round

    application = HousingApplication.objects.create(
        round=make_round(make_project(district_1), status="drawn"),
        applicant=graduate_a,
        status=HousingApplicationStatus.APPROVED,
    )

    _delete(graduate_a, django_capture_on_commit_callbacks)

    application.refresh_from_db()
    assert application.status == HousingApplicationStatus.WITHDRAWN
    entry = AuditEntry.objects.get(object_id=str(application.pk), to_status="withdrawn")
    assert entry.actor is None and entry.reason


@pytest.mark.parametrize("who", ["employer", "staff"])
def test_only_graduates_delete_their_own_account(who, employer_x, staff_1, django_capture_on_commit_callbacks):
    user = employer_x if who == "employer" else staff_1
    assert len(_refused(user, django_capture_on_commit_callbacks)) == 1


def test_an_employer_member_sees_the_page_without_a_form(client, employer_x):
    client.force_login(employer_x)
    content = client.get(URL).content.decode()
    assert 'id="obligations"' in content and 'id="deletion-form"' not in content


# --- staff --------------------------------------------------------------------------------------------


@pytest.fixture
def deleted(graduate_a, django_capture_on_commit_callbacks):
    return _delete(graduate_a, django_capture_on_commit_callbacks)


def test_district_staff_read_the_requests_of_their_district(client, deleted, staff_1):
    client.force_login(staff_1)

    listing = client.get(reverse("admin:portal_deletionrequest_changelist"))
    change = client.get(reverse("admin:portal_deletionrequest_change", args=[deleted.pk]))

    assert listing.status_code == 200 and list(listing.context["cl"].result_list) == [deleted]
    assert change.status_code == 200
    assert deleted.pseudonym in change.content.decode()
    assert not change.context["has_change_permission"] and not change.context["has_delete_permission"]
    assert client.get(reverse("admin:portal_deletionrequest_add")).status_code == 403


def test_staff_of_another_district_do_not_see_it(client, deleted, staff_2, city_staff):
    client.force_login(staff_2)
    assert list(client.get(reverse("admin:portal_deletionrequest_changelist")).context["cl"].result_list) == []
    assert client.get(reverse("admin:portal_deletionrequest_change", args=[deleted.pk])).status_code == 302

    client.force_login(city_staff)
    assert list(client.get(reverse("admin:portal_deletionrequest_changelist")).context["cl"].result_list) == [deleted]


def test_graduates_do_not_open_the_admin(client, deleted, graduate_b):
    client.force_login(graduate_b)
    response = client.get(reverse("admin:portal_deletionrequest_changelist"))
    assert response.status_code in (302, 403)


def test_the_deleted_user_is_a_pseudonym_in_staff_lists(client, deleted, staff_1):
    client.force_login(staff_1)
    content = client.get(reverse("admin:portal_applicantprofile_changelist")).content.decode()
    assert deleted.pseudonym in content
