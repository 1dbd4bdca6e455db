"""The jobs services: a position from draft to publication, rejection, closing and expiry;
traineeship bases; an application from submission to hire, with every refusal explained and
every change notified to the other side (in-app at once, e-mail and SMS after commit)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from jobs import services, tasks
from jobs.constants import ApplicationStatus, PositionKind, PositionStatus, RejectionReason
from jobs.models import Interview, JobApplication, Position, TraineeshipBase
from portal import services as portal_services
from portal.constants import AuditAction, DocumentKind, EducationLevel
from portal.models import ApplicantProfile, AuditEntry, Document, Notification
from portal.services import TransitionNotAllowed
from portal.sms import outbox as sms_outbox
from tests.jobs.conftest import pdf_upload, png_upload
from tests.jobs.factories import JobApplicationFactory, PositionFactory
from tests.portal.factories import OrganisationFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def _data(district, **overrides):
    data = {
        "kind": PositionKind.TRAINEESHIP,
        "title": "机械设计见习生",
        "description": "轴承结构设计与测试，导师一对一带教。",
        "district": district,
        "industry": "bearings",
        "education_level": EducationLevel.BACHELOR,
        "majors": "机械工程",
        "headcount": 3,
        "salary_min": 2000,
        "salary_max": 2400,
        "work_address": "洛阳市洛龙区开元大道 1 号",
        "deadline": TODAY() + dt.timedelta(days=30),
    }
    data.update(overrides)
    return data


def _transitions(obj):
    return list(
        AuditEntry.objects.filter(
            action=AuditAction.TRANSITION, object_id=str(obj.pk), content_type__model=obj._meta.model_name
        )
        .order_by("created_at", "id")
        .values_list("from_status", "to_status")
    )


def _kinds(user):
    return list(
        Notification.objects.filter(user=user)
        .exclude(kind="organisation_verified")
        .order_by("created_at", "id")
        .values_list("kind", flat=True)
    )


# --- Positions: drafting ----------------------------------------------------------------------


def test_member_of_a_verified_organisation_drafts_a_position(org_x, employer_x, district_1):
    position = services.position_create(organisation=org_x, actor=employer_x, data=_data(district_1))

    assert position.status == PositionStatus.DRAFT
    assert position.created_by == employer_x
    assert position.published_at is None
    # The search column holds everything a graduate may type.
    for text in ("机械设计见习生", org_x.name, "机械工程", "开元大道", "导师一对一"):
        assert text in position.search_text


def test_unverified_organisation_cannot_post(district_1):
    pending = OrganisationFactory(district=district_1)
    member = pending.memberships.get().user

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.position_create(organisation=pending, actor=member, data=_data(district_1))

    assert "Only verified organisations can post positions" in exc.value.messages[0]
    assert not Position.objects.exists()


def test_rejected_organisation_cannot_post(district_1):
    rejected = OrganisationFactory(district=district_1, rejected=True)

    with pytest.raises(ValidationError):
        services.position_create(organisation=rejected, actor=rejected.memberships.get().user, data=_data(district_1))


def test_only_members_may_create(org_x, employer_y, graduate_a, district_1):
    for outsider in (employer_y, graduate_a):
        with pytest.raises(PermissionDenied):
            services.position_create(organisation=org_x, actor=outsider, data=_data(district_1))
    assert not Position.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"salary_min": 5000, "salary_max": 4000}, "salary_max"),
        ({"deadline": dt.date(2020, 1, 1)}, "deadline"),
        ({"headcount": 0}, "headcount"),
    ],
)
def test_invalid_position_is_refused_on_the_field(org_x, employer_x, district_1, overrides, field):
    with pytest.raises(ValidationError) as exc:
        services.position_create(organisation=org_x, actor=employer_x, data=_data(district_1, **overrides))

    assert field in exc.value.message_dict
    assert not Position.objects.exists()


def test_open_salary_range_is_allowed(org_x, employer_x, district_1):
    position = services.position_create(
        organisation=org_x, actor=employer_x, data=_data(district_1, salary_min=None, salary_max=None)
    )
    assert position.salary_min is None and position.salary_max is None


# --- Positions: the review workflow ----------------------------------------------------------


def test_lifecycle_draft_pending_published_closed(
    org_x, employer_x, staff_1, staff_2, district_1, mailoutbox, django_capture_on_commit_callbacks
):
    position = services.position_create(organisation=org_x, actor=employer_x, data=_data(district_1))

    with django_capture_on_commit_callbacks(execute=True):
        services.position_submit(position=position, actor=employer_x)
    assert position.status == PositionStatus.PENDING
    # The reviewers of the position's district get it in their inbox, nobody else.
    assert _kinds(staff_1) == ["position_submitted"]
    assert _kinds(staff_2) == []
    assert mailoutbox == []  # in-app only for staff

    with django_capture_on_commit_callbacks(execute=True):
        services.position_approve(position=position, actor=staff_1)
    position.refresh_from_db()
    assert position.status == PositionStatus.PUBLISHED
    assert position.published_at is not None
    assert _kinds(employer_x) == ["position_published"]
    assert [m.to for m in mailoutbox] == [[employer_x.email]]
    assert position.title in mailoutbox[0].subject

    services.position_close(position=position, actor=employer_x)
    position.refresh_from_db()
    assert position.status == PositionStatus.CLOSED
    assert _transitions(position) == [
        ("draft", "pending"),
        ("pending", "published"),
        ("published", "closed"),
    ]


def test_staff_of_another_district_may_not_approve(org_x, staff_2):
    position = PositionFactory(organisation=org_x, pending=True)

    with pytest.raises(PermissionDenied):
        services.position_approve(position=position, actor=staff_2)
    position.refresh_from_db()
    assert position.status == PositionStatus.PENDING


def test_city_staff_may_approve_any_district(org_y, city_staff):
    position = PositionFactory(organisation=org_y, pending=True)

    services.position_approve(position=position, actor=city_staff)

    assert position.status == PositionStatus.PUBLISHED


def test_the_employer_may_not_approve_its_own_position(org_x, employer_x):
    position = PositionFactory(organisation=org_x, pending=True)

    with pytest.raises(PermissionDenied):
        services.position_approve(position=position, actor=employer_x)


def test_only_members_may_submit(org_x, employer_y, staff_1):
    position = PositionFactory(organisation=org_x)

    for outsider in (employer_y, staff_1):
        with pytest.raises(PermissionDenied):
            services.position_submit(position=position, actor=outsider)
    position.refresh_from_db()
    assert position.status == PositionStatus.DRAFT


def test_position_of_an_organisation_no_longer_verified_cannot_be_submitted(district_1):
    organisation = OrganisationFactory(district=district_1)  # pending
    position = PositionFactory(organisation=organisation)

    with pytest.raises(ValidationError):
        services.position_submit(position=position, actor=organisation.memberships.get().user)


def test_reject_with_a_canned_reason_and_a_note(
    org_x, employer_x, staff_1, mailoutbox, django_capture_on_commit_callbacks
):
    position = PositionFactory(organisation=org_x, pending=True)

    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        entry = services.position_reject(
            position=position, actor=staff_1, reason_code=RejectionReason.SALARY, note="低于最低工资标准"
        )

    position.refresh_from_db()
    assert position.status == PositionStatus.REJECTED
    assert position.rejection_reason == RejectionReason.SALARY
    assert "低于最低工资标准" in position.status_reason
    assert (entry.from_status, entry.to_status, entry.actor) == ("pending", "rejected", staff_1)
    assert "低于最低工资标准" in entry.reason
    # The employer learns why, in the inbox, by e-mail and by SMS.
    note = Notification.objects.get(user=employer_x, kind="position_rejected")
    assert "低于最低工资标准" in note.body
    assert [m.to for m in mailoutbox] == [[employer_x.email]]
    assert [m["to"] for m in sms_outbox] == [employer_x.phone]


def test_reject_with_other_needs_a_note(org_x, staff_1):
    position = PositionFactory(organisation=org_x, pending=True)

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.position_reject(position=position, actor=staff_1, reason_code=RejectionReason.OTHER, note="  ")
    assert "explain" in exc.value.messages[0]

    services.position_reject(position=position, actor=staff_1, reason_code=RejectionReason.OTHER, note="联系方式无效")
    position.refresh_from_db()
    assert position.status == PositionStatus.REJECTED
    assert position.rejection_reason == RejectionReason.OTHER


def test_reject_with_an_unknown_reason_is_refused(org_x, staff_1):
    position = PositionFactory(organisation=org_x, pending=True)

    with pytest.raises(ValidationError):
        services.position_reject(position=position, actor=staff_1, reason_code="because", note="")
    position.refresh_from_db()
    assert position.status == PositionStatus.PENDING
    assert position.rejection_reason == ""


def test_staff_of_another_district_may_not_reject_and_nothing_is_written(org_x, staff_2):
    position = PositionFactory(organisation=org_x, pending=True)

    with pytest.raises(PermissionDenied):
        services.position_reject(position=position, actor=staff_2, reason_code=RejectionReason.FEES)
    position.refresh_from_db()
    assert (position.status, position.rejection_reason) == (PositionStatus.PENDING, "")


def test_rejected_position_is_edited_resubmitted_and_published(org_x, employer_x, staff_1):
    position = PositionFactory(organisation=org_x, pending=True)
    services.position_reject(position=position, actor=staff_1, reason_code=RejectionReason.INCOMPLETE)

    services.position_update(
        position=position,
        actor=employer_x,
        data={"title": "精密轴承工艺工程师", "description": "完整的岗位职责和要求。"},
    )
    position.refresh_from_db()
    assert position.title == "精密轴承工艺工程师"
    assert "完整的岗位职责" in position.search_text
    assert position.status == PositionStatus.REJECTED

    services.position_submit(position=position, actor=employer_x)
    services.position_approve(position=position, actor=staff_1)
    position.refresh_from_db()
    assert position.status == PositionStatus.PUBLISHED
    # The old decision no longer shows on the published position.
    assert (position.rejection_reason, position.status_reason) == ("", "")
    assert _transitions(position) == [
        ("pending", "rejected"),
        ("rejected", "pending"),
        ("pending", "published"),
    ]


@pytest.mark.parametrize("status", ["pending", "published", "closed", "expired"])
def test_only_drafts_and_rejected_positions_can_be_edited(org_x, employer_x, status):
    position = PositionFactory(organisation=org_x, **{status: True})

    with pytest.raises(ValidationError):
        services.position_update(position=position, actor=employer_x, data={"title": "改过的标题"})
    position.refresh_from_db()
    assert position.title != "改过的标题"


def test_only_members_may_edit(org_x, employer_y, staff_1):
    position = PositionFactory(organisation=org_x)

    for outsider in (employer_y, staff_1):
        with pytest.raises(PermissionDenied):
            services.position_update(position=position, actor=outsider, data={"title": "改过的标题"})


def test_edit_is_validated(org_x, employer_x):
    position = PositionFactory(organisation=org_x)

    with pytest.raises(ValidationError) as exc:
        services.position_update(position=position, actor=employer_x, data={"salary_min": 9000, "salary_max": 100})
    assert "salary_max" in exc.value.message_dict
    position.refresh_from_db()
    assert position.salary_min == 6000


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", "approve"),
        ("published", "approve"),
        ("pending", "close"),
        ("closed", "submit"),
        ("expired", "submit"),
        ("published", "submit"),
    ],
)
def test_illegal_position_moves_are_refused(org_x, employer_x, staff_1, status, action):
    position = PositionFactory(organisation=org_x, **{status: True})
    call = {
        "approve": lambda: services.position_approve(position=position, actor=staff_1),
        "close": lambda: services.position_close(position=position, actor=employer_x),
        "submit": lambda: services.position_submit(position=position, actor=employer_x),
    }[action]

    with pytest.raises(TransitionNotAllowed):
        call()
    position.refresh_from_db()
    assert position.status == status


def test_a_draft_can_be_discarded_by_closing(org_x, employer_x):
    position = PositionFactory(organisation=org_x)

    services.position_close(position=position, actor=employer_x)

    assert position.status == PositionStatus.CLOSED


# --- Positions: expiry -------------------------------------------------------------------------


def _due_and_not_due(org_x):
    yesterday = TODAY() - dt.timedelta(days=1)
    due = PositionFactory(organisation=org_x, published=True, deadline=yesterday)
    today = PositionFactory(organisation=org_x, published=True, deadline=TODAY())
    pending = PositionFactory(organisation=org_x, pending=True, deadline=yesterday)
    return due, today, pending


def test_positions_expire_due_expires_published_positions_past_their_deadline(org_x):
    due, today, pending = _due_and_not_due(org_x)

    assert services.positions_expire_due() == 1

    statuses = dict(Position.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", today.pk: "published", pending.pk: "pending"}
    entry = AuditEntry.objects.get(object_id=str(due.pk), to_status="expired")
    assert entry.actor is None  # the system, from celery beat
    # A second run finds nothing more to do.
    assert services.positions_expire_due() == 0


def test_positions_expire_due_with_a_given_date(org_x):
    _due, today, _pending = _due_and_not_due(org_x)

    assert services.positions_expire_due(today=TODAY() + dt.timedelta(days=1)) == 2
    today.refresh_from_db()
    assert today.status == PositionStatus.EXPIRED


def test_the_celery_task_expires_positions(org_x):
    due, today, _pending = _due_and_not_due(org_x)

    assert tasks.positions_expire() == 1

    due.refresh_from_db()
    today.refresh_from_db()
    assert (due.status, today.status) == (PositionStatus.EXPIRED, PositionStatus.PUBLISHED)


def test_the_task_is_scheduled_by_celery_beat(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "jobs.tasks.positions_expire" in schedule


def test_staff_may_expire_a_position_of_their_district(org_x, staff_1, staff_2):
    position = PositionFactory(organisation=org_x, published=True)

    with pytest.raises(PermissionDenied):
        services.position_expire(position=position, actor=staff_2)
    services.position_expire(position=position, actor=staff_1)
    assert position.status == PositionStatus.EXPIRED


# --- Traineeship bases ---------------------------------------------------------------------------


def test_staff_designate_and_revoke_a_traineeship_base(org_x, staff_1):
    base = services.traineeship_base_designate(organisation=org_x, actor=staff_1, description="见习基地简介")

    assert (base.active, base.designated_by, base.description) == (True, staff_1, "见习基地简介")
    assert AuditEntry.objects.filter(action=AuditAction.DECISION, object_id=str(org_x.pk)).count() == 1
    # Designating again keeps one base.
    services.traineeship_base_designate(organisation=org_x, actor=staff_1)
    assert TraineeshipBase.objects.count() == 1

    services.traineeship_base_revoke(base=base, actor=staff_1)
    base.refresh_from_db()
    assert base.active is False


def test_traineeship_base_rules(org_x, staff_2, employer_x, district_1, staff_1):
    with pytest.raises(PermissionDenied):
        services.traineeship_base_designate(organisation=org_x, actor=staff_2)
    with pytest.raises(PermissionDenied):
        services.traineeship_base_designate(organisation=org_x, actor=employer_x)
    with pytest.raises(ValidationError):
        services.traineeship_base_designate(organisation=OrganisationFactory(district=district_1), actor=staff_1)
    assert not TraineeshipBase.objects.exists()


# --- Applications: submission ---------------------------------------------------------------------


def test_graduate_applies_and_the_employer_is_told(
    position, graduate_a, employer_x, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application = services.job_application_submit(
            position=position, applicant=graduate_a, cover_note="  我想试试。 "
        )

    assert (application.position, application.applicant, application.status) == (position, graduate_a, "submitted")
    assert application.cover_note == "我想试试。"
    received = Notification.objects.get(user=employer_x, kind="application_received")
    assert position.title in received.title
    assert received.link.endswith(f"/jobs/employer/applications/{application.pk}/")
    assert [m.to for m in mailoutbox] == [[employer_x.email]]
    assert _kinds(graduate_a) == []


def test_every_member_of_the_employer_is_told(position, graduate_a, employer_x, org_x):
    colleague = UserFactory(role="employer")
    org_x.memberships.create(user=colleague)

    services.job_application_submit(position=position, applicant=graduate_a)

    assert set(Notification.objects.filter(kind="application_received").values_list("user", flat=True)) == {
        employer_x.pk,
        colleague.pk,
    }


def test_incomplete_profile_is_refused_with_what_is_missing(position):
    graduate = ProfileFactory(real_name="", school="").user  # no education, ID, consent or certificate

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=position, applicant=graduate)

    assert {e.code for e in exc.value.error_list} == {"profile_complete", "education"}
    (message,) = [m for m in exc.value.messages if "missing" in m]
    for item in ("Real name", "ID number", "Education level", "School", "Degree certificate", "Consent"):
        assert item in message
    assert not JobApplication.objects.exists()


def test_a_graduate_without_a_profile_is_refused(position):
    with pytest.raises(ValidationError):
        services.job_application_submit(position=position, applicant=UserFactory())
    assert not JobApplication.objects.exists()


def test_missing_degree_certificate_alone_is_named(position, district_1):
    graduate = ProfileFactory(district=district_1, complete=True).user

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=position, applicant=graduate)

    assert exc.value.messages == ["Your profile is missing: Degree certificate (upload)"]


def test_without_consent_the_application_is_refused(position, graduate_a):
    portal_services.consent_withdraw(user=graduate_a)

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=position, applicant=graduate_a)

    assert "Consent to processing personal information" in " ".join(exc.value.messages)
    assert not JobApplication.objects.exists()


def test_education_below_the_requirement_is_refused_with_the_reason(org_x, graduate_a):
    master_only = PositionFactory(organisation=org_x, published=True, education_level=EducationLevel.MASTER)

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=master_only, applicant=graduate_a)

    assert exc.value.messages == ["Education: Bachelor (本科), required Master (硕士) or above"]


def test_higher_education_than_required_is_fine(org_x, graduate_a):
    junior = PositionFactory(organisation=org_x, published=True, education_level=EducationLevel.JUNIOR_COLLEGE)

    assert services.job_application_submit(position=junior, applicant=graduate_a).pk


def test_after_the_deadline_the_application_is_refused(org_x, graduate_a):
    late = PositionFactory(organisation=org_x, published=True, deadline=TODAY() - dt.timedelta(days=1))

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=late, applicant=graduate_a)

    assert exc.value.messages == ["The position is no longer open for applications"]


def test_on_the_deadline_day_the_application_is_accepted(org_x, graduate_a):
    last_day = PositionFactory(organisation=org_x, published=True, deadline=TODAY())

    assert services.job_application_submit(position=last_day, applicant=graduate_a, today=TODAY()).pk


@pytest.mark.parametrize("status", ["draft", "pending", "rejected", "closed", "expired"])
def test_positions_not_published_take_no_application(org_x, graduate_a, status):
    position = PositionFactory(organisation=org_x, **{status: True})

    with pytest.raises(ValidationError):
        services.job_application_submit(position=position, applicant=graduate_a)
    assert not JobApplication.objects.exists()


def test_a_second_application_is_refused_clearly(position, graduate_a, employer_x):
    services.job_application_submit(position=position, applicant=graduate_a)

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=position, applicant=graduate_a)

    assert exc.value.code == "duplicate"
    assert exc.value.messages == ["You have already applied for this position."]
    assert JobApplication.objects.count() == 1
    assert Notification.objects.filter(user=employer_x, kind="application_received").count() == 1


def test_after_withdrawing_the_graduate_cannot_apply_again(position, graduate_a):
    application = services.job_application_submit(position=position, applicant=graduate_a)
    services.job_application_withdraw(application=application, actor=graduate_a)

    with pytest.raises(ValidationError):
        services.job_application_submit(position=position, applicant=graduate_a)


def test_two_graduates_may_apply_to_the_same_position(position, graduate_a, graduate_b):
    services.job_application_submit(position=position, applicant=graduate_a)
    services.job_application_submit(position=position, applicant=graduate_b)

    assert position.applications.count() == 2


def test_a_pdf_cv_is_stored_as_the_graduate_s_document(position, graduate_a):
    application = services.job_application_submit(position=position, applicant=graduate_a, cv_upload=pdf_upload())

    assert application.cv.owner == graduate_a
    assert (application.cv.kind, application.cv.content_type) == (DocumentKind.CV, "application/pdf")


def test_the_cv_must_be_a_pdf(position, graduate_a):
    before = Document.objects.filter(owner=graduate_a).count()

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_submit(position=position, applicant=graduate_a, cv_upload=png_upload("cv.png"))

    assert exc.value.messages == ["The CV must be a PDF file."]
    assert not JobApplication.objects.exists()
    assert Document.objects.filter(owner=graduate_a).count() == before  # the stray upload is gone


def test_a_file_that_is_no_document_at_all_is_refused(position, graduate_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with pytest.raises(ValidationError):
        services.job_application_submit(
            position=position, applicant=graduate_a, cv_upload=SimpleUploadedFile("cv.pdf", b"MZ not a pdf")
        )
    assert not JobApplication.objects.exists()


def test_own_documents_can_be_shared(position, graduate_a):
    certificate = Document.objects.get(owner=graduate_a, kind=DocumentKind.DEGREE_CERTIFICATE)

    application = services.job_application_submit(
        position=position, applicant=graduate_a, shared_document_ids=[certificate.pk]
    )

    assert list(application.shared_documents.all()) == [certificate]


def test_documents_of_someone_else_cannot_be_shared(position, graduate_a, graduate_b, org_x, employer_x):
    theirs = Document.objects.get(owner=graduate_b)
    organisation_document = portal_services.document_upload(
        owner=graduate_a, kind=DocumentKind.OTHER, upload=png_upload(), organisation=None
    )
    organisation_document.organisation = org_x  # a document held for an organisation is not the applicant's
    organisation_document.save(update_fields=["organisation"])

    for ids in ([theirs.pk], [organisation_document.pk], [999_999]):
        with translation.override("en"), pytest.raises(ValidationError) as exc:
            services.job_application_submit(position=position, applicant=graduate_a, shared_document_ids=ids)
        assert exc.value.messages == ["You can only share your own documents."]
    assert not JobApplication.objects.exists()


# --- Applications: the state machine -------------------------------------------------------------


@pytest.fixture
def application(position, graduate_a):
    return services.job_application_submit(position=position, applicant=graduate_a)


def _future(days=3):
    return timezone.now() + dt.timedelta(days=days)


def test_from_submission_to_hire_each_step_notifies_the_graduate(
    application, employer_x, graduate_a, org_x, mailoutbox, django_capture_on_commit_callbacks
):
    steps = [
        lambda: services.job_application_mark_viewed(application=application, actor=employer_x),
        lambda: services.job_application_invite(
            application=application, actor=employer_x, starts_at=_future(), place="洛阳市洛龙区开元大道 1 号 3 楼"
        ),
        lambda: services.job_application_offer(application=application, actor=employer_x),
        lambda: services.job_application_hire(application=application, actor=employer_x),
    ]
    expected = ["viewed", "interview", "offered", "hired"]
    for step, status in zip(steps, expected, strict=True):
        mailoutbox.clear()
        sms_outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            step()
        application.refresh_from_db()
        assert application.status == status
        assert [m.to for m in mailoutbox] == [[graduate_a.email]], status
        assert [m["to"] for m in sms_outbox] == [graduate_a.phone], status

    assert _kinds(graduate_a) == ["application_status", "interview_invited", "application_status", "application_status"]
    assert _transitions(application) == [
        ("submitted", "viewed"),
        ("viewed", "interview"),
        ("interview", "offered"),
        ("offered", "hired"),
    ]


def test_a_hire_records_that_the_graduate_works_in_luoyang(application, employer_x, graduate_a, org_x):
    application.status = ApplicationStatus.OFFERED
    application.save(update_fields=["status"])

    services.job_application_hire(application=application, actor=employer_x)

    profile = ApplicantProfile.objects.get(user=graduate_a)
    assert profile.current_employer == org_x.name
    assert profile.works_in_luoyang is True


def test_viewing_is_marked_once_and_only_by_the_employer(application, employer_x, employer_y, graduate_a):
    services.job_application_mark_viewed(application=application, actor=employer_y)
    services.job_application_mark_viewed(application=application, actor=graduate_a)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED

    services.job_application_mark_viewed(application=application, actor=employer_x)
    services.job_application_mark_viewed(application=application, actor=employer_x)
    assert _transitions(application) == [("submitted", "viewed")]


@pytest.mark.parametrize("status", ["submitted", "viewed", "interview", "offered"])
def test_the_employer_may_reject_from_any_open_state(
    org_x, employer_x, status, mailoutbox, django_capture_on_commit_callbacks
):
    application = JobApplicationFactory(position__organisation=org_x, **{status: True})

    with django_capture_on_commit_callbacks(execute=True):
        services.job_application_reject(application=application, actor=employer_x, reason="岗位已招满")

    application.refresh_from_db()
    assert (application.status, application.status_reason) == (ApplicationStatus.REJECTED, "岗位已招满")
    note = Notification.objects.get(user=application.applicant, kind="application_status")
    assert "岗位已招满" in note.body
    assert [m.to for m in mailoutbox] == [[application.applicant.email]]


@pytest.mark.parametrize("status", ["submitted", "viewed", "interview", "offered"])
def test_the_graduate_may_withdraw_from_any_open_state(
    org_x, employer_x, status, mailoutbox, django_capture_on_commit_callbacks
):
    application = JobApplicationFactory(position__organisation=org_x, **{status: True})

    with django_capture_on_commit_callbacks(execute=True):
        services.job_application_withdraw(application=application, actor=application.applicant)

    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert _kinds(employer_x) == ["application_withdrawn"]
    assert [m.to for m in mailoutbox] == [[employer_x.email]]
    assert _kinds(application.applicant) == []


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("submitted", "offer"),  # the employer has not even opened it
        ("submitted", "hire"),
        ("viewed", "hire"),
        ("interview", "hire"),
        ("hired", "reject"),
        ("hired", "withdraw"),
        ("rejected", "offer"),
        ("rejected", "withdraw"),
        ("withdrawn", "withdraw"),
        ("withdrawn", "hire"),
    ],
)
def test_illegal_application_moves_are_refused(org_x, employer_x, status, action):
    application = JobApplicationFactory(position__organisation=org_x, **{status: True})
    call = {
        "offer": lambda: services.job_application_offer(application=application, actor=employer_x),
        "hire": lambda: services.job_application_hire(application=application, actor=employer_x),
        "reject": lambda: services.job_application_reject(application=application, actor=employer_x),
        "withdraw": lambda: services.job_application_withdraw(application=application, actor=application.applicant),
    }[action]

    with pytest.raises(TransitionNotAllowed):
        call()
    application.refresh_from_db()
    assert application.status == status
    assert _transitions(application) == []


@pytest.mark.parametrize("status", ["hired", "rejected", "withdrawn"])
def test_no_invitation_after_the_application_is_closed(org_x, employer_x, status):
    application = JobApplicationFactory(position__organisation=org_x, **{status: True})

    with pytest.raises(ValidationError):
        services.job_application_invite(application=application, actor=employer_x, starts_at=_future(), place="会议室")
    assert not Interview.objects.exists()


def test_only_the_employer_moves_the_application(application, employer_y, graduate_a, staff_1, employer_x):
    application.status = ApplicationStatus.VIEWED
    application.save(update_fields=["status"])

    for actor in (employer_y, graduate_a, staff_1):
        with pytest.raises(PermissionDenied):
            services.job_application_offer(application=application, actor=actor)
        with pytest.raises(PermissionDenied):
            services.job_application_reject(application=application, actor=actor)
        with pytest.raises(PermissionDenied):
            services.job_application_invite(application=application, actor=actor, starts_at=_future(), place="会议室")
    # ... and only the graduate withdraws.
    for actor in (employer_x, employer_y):
        with pytest.raises(PermissionDenied):
            services.job_application_withdraw(application=application, actor=actor)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.VIEWED
    assert not Interview.objects.exists()


def test_the_invitation_is_a_record_other_programmes_read(application, employer_x, graduate_a):
    when = _future(5)

    interview = services.job_application_invite(
        application=application,
        actor=employer_x,
        starts_at=when,
        online_link="https://meeting.example.com/123",
        note="请准备简历",
    )

    assert (interview.application, interview.starts_at, interview.invited_by) == (application, when, employer_x)
    assert (interview.place, interview.online_link) == ("", "https://meeting.example.com/123")
    invitation = Notification.objects.get(user=graduate_a, kind="interview_invited")
    assert "https://meeting.example.com/123" in invitation.body
    assert "请准备简历" in invitation.body
    assert Interview.objects.filter(application__applicant=graduate_a).count() == 1


def test_a_second_invitation_adds_an_interview_without_a_second_transition(application, employer_x):
    services.job_application_invite(application=application, actor=employer_x, starts_at=_future(2), place="一面")
    services.job_application_invite(application=application, actor=employer_x, starts_at=_future(4), place="二面")

    assert application.interviews.count() == 2
    assert _transitions(application) == [("submitted", "interview")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"starts_at": "past", "place": "会议室"}, "The interview must be in the future."),
        ({"starts_at": "future", "place": "  ", "online_link": ""}, "Give a place or an online meeting link."),
    ],
)
def test_invalid_invitations_are_refused(application, employer_x, kwargs, message):
    kwargs = dict(kwargs)
    kwargs["starts_at"] = timezone.now() - dt.timedelta(hours=1) if kwargs["starts_at"] == "past" else _future()

    with translation.override("en"), pytest.raises(ValidationError) as exc:
        services.job_application_invite(application=application, actor=employer_x, **kwargs)

    assert exc.value.messages == [message]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert not Interview.objects.exists()


def test_an_application_from_the_factory_is_consistent():
    application = JobApplicationFactory(hired=True)

    assert application.status == ApplicationStatus.HIRED
    assert application.position.status == PositionStatus.PUBLISHED
    assert application.position.organisation.is_verified


def test_no_interview_on_an_application_withdrawn_meanwhile(position, graduate_a, employer_x):
    application = services.job_application_submit(position=position, applicant=graduate_a)
    stale = JobApplication.objects.get(pk=application.pk)  # the employer's page, loaded earlier
    services.job_application_withdraw(application=application, actor=graduate_a)
    with translation.override("en"), pytest.raises(ValidationError, match="no longer open"):
        services.job_application_invite(
            application=stale, actor=employer_x, starts_at=timezone.now() + dt.timedelta(days=2), place="会议室"
        )
    assert not Interview.objects.exists()
