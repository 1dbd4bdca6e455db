"""Demo subsidies for ``manage.py seed_demo`` (after the jobs demo, which verifies the demo
employer and publishes its positions): the demo graduate gets a degree certificate and an
interview invitation, so the interview travel subsidy shows eligible on its page; a demo
trainee hired by the demo employer, whose traineeship living subsidy for this month is
approved and in public notice. Idempotent: a second run finds the rows and adds nothing.
Everything goes through the services, as a person would."""

from __future__ import annotations

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal import services as portal_services
from portal.constants import DocumentKind, EducationLevel, OrganisationStatus, Role
from portal.models import District, Document, Organisation, User
from subsidies import services
from subsidies.constants import SubsidyStatus
from subsidies.models import Programme, SubsidyApplication

TRAINEE_EMAIL = "trainee@example.com"


def seed(*, users: dict) -> None:
    graduate, employer, city = users.get("graduate"), users.get("employer"), users.get("city_staff")
    if graduate is None or employer is None or city is None:
        return
    org = Organisation.objects.filter(memberships__user=employer).first()
    if org is None or org.status != OrganisationStatus.VERIFIED:
        return
    _degree_certificate(graduate)
    _interview(graduate, org, employer)
    _claim_in_notice(org, employer, city)


def _png() -> SimpleUploadedFile:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (164, 22, 26)).save(buffer, format="PNG")
    return SimpleUploadedFile("degree.png", buffer.getvalue(), content_type="image/png")


def _degree_certificate(user: User) -> None:
    if not Document.objects.filter(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE).exists():
        portal_services.document_upload(owner=user, kind=DocumentKind.DEGREE_CERTIFICATE, upload=_png())


def _published(org: Organisation, kind: str):
    from jobs.constants import PositionStatus
    from jobs.models import Position

    return Position.objects.filter(organisation=org, kind=kind, status=PositionStatus.PUBLISHED).order_by("pk").first()


def _interview(graduate: User, org: Organisation, employer: User) -> None:
    """The demo graduate applied for the engineer's job and is invited to an interview."""
    from jobs import services as jobs_services
    from jobs.constants import PositionKind
    from jobs.models import Interview, JobApplication

    if Interview.objects.filter(application__applicant=graduate).exists():
        return
    position = _published(org, PositionKind.JOB)
    if position is None:
        return
    application = JobApplication.objects.filter(position=position, applicant=graduate).first()
    if application is None:
        application = jobs_services.job_application_submit(
            position=position, applicant=graduate, cover_note="我来自郑州，希望在洛阳从事软件相关工作。"
        )
    starts_at = timezone.localtime().replace(hour=10, minute=0, second=0, microsecond=0) + dt.timedelta(days=3)
    jobs_services.job_application_invite(
        application=application, actor=employer, starts_at=starts_at, place=org.address
    )


def _trainee() -> User:
    from portal.management.commands.seed_demo import demo_id_number

    user = User.objects.filter(email=TRAINEE_EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=TRAINEE_EMAIL, password=None, role=Role.GRADUATE)
        portal_services.profile_update(
            user=user,
            id_number=demo_id_number("410305", "20020312", "246"),
            data={
                "real_name": "王见习",
                "phone": "13800000009",
                "education_level": EducationLevel.BACHELOR,
                "school": "河南科技大学",
                "major": "机械设计制造及其自动化",
                "graduation_date": dt.date(2026, 6, 30),
                "hukou_province": "河南省",
                "hukou_city": "洛阳市",
                "district": District.objects.get(code="luolong"),
            },
        )
        portal_services.consent_give(user=user)
        _degree_certificate(user)
    return user


def _claim_in_notice(org: Organisation, employer: User, city: User) -> None:
    """A trainee hired into the demo base's traineeship; the employer's claim for this month
    is checked, approved by city staff and in public notice."""
    from jobs import services as jobs_services
    from jobs.constants import ApplicationStatus, PositionKind
    from jobs.models import JobApplication

    programme = Programme.objects.filter(code="traineeship-living").first()
    if programme is None or SubsidyApplication.objects.filter(programme=programme, organisation=org).exists():
        return
    position = _published(org, PositionKind.TRAINEESHIP)
    if position is None:
        return
    trainee = _trainee()
    hire = JobApplication.objects.filter(position=position, applicant=trainee).first()
    if hire is None:
        hire = jobs_services.job_application_submit(position=position, applicant=trainee)
    jobs_services.job_application_mark_viewed(application=hire, actor=employer)
    hire.refresh_from_db()
    if hire.status == ApplicationStatus.VIEWED:
        jobs_services.job_application_offer(application=hire, actor=employer)
    if hire.status == ApplicationStatus.OFFERED:
        jobs_services.job_application_hire(application=hire, actor=employer)
    claim = services.subsidy_application_create(
        programme=programme,
        applicant=employer,
        organisation=org,
        job_application_id=hire.pk,
        period_start=timezone.localdate().replace(day=1),
    )
    # The command runs in one transaction: the check queued on commit would come too late
    # for the approval, so it runs here (the queued one then finds its result stored).
    services.subsidy_check(application_id=claim.pk, reason="submitted")
    claim.refresh_from_db()
    if claim.status == SubsidyStatus.ELIGIBLE:
        services.subsidy_approve(application=claim, actor=city)
