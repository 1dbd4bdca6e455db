"""Rows of one graduate in every programme, as the deletion and retention tests need them:
closed records with personal texts, papers and eligibility snapshots, and (optionally)
open ones that a deletion request withdraws."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from apartments.constants import FollowUpOutcome, HousingApplicationStatus, LeaseStatus, RecheckAnswer, StayStatus
from apartments.models import BedAlert, HousingApplication, Lease, LeaseRecheck, Unit
from events.models import CalendarFeed, Subscription
from jobs.constants import ApplicationStatus
from jobs.models import Interview
from portal.constants import DocumentKind
from subsidies.constants import SubsidyStatus
from subsidies.models import EligibilityCheck, LedgerEntry, Objection, Programme, SubsidyApplication
from tests.apartments.conftest import give_letter, housing_apply, make_housing_graduate, make_project, make_round
from tests.apartments.factories import FollowUpFactory, StationFactory, StayFactory
from tests.events.factories import EventFactory, RegistrationFactory
from tests.jobs.factories import JobApplicationFactory
from tests.portal.factories import NotificationFactory

# What a person's eligibility snapshot says about them (the messages name their facts).
PERSONAL_SNAPSHOT = {
    "eligible": True,
    "criteria": [
        {"code": "hukou", "passed": True, "message": "户籍：郑州市（洛阳市以外）", "blocking": True},
        {"code": "graduation", "passed": True, "message": "毕业日期 2025-11-12，在 2 年以内", "blocking": True},
    ],
    "parameters": {"graduation_years": 2, "evaluated_on": "2026-05-11"},
}
PRIVATE_TEXT = "私人备注：张三的手机 13912345678"


def _subsidy(programme: Programme, user, district, *, status: str, key: str, amount="500.00") -> SubsidyApplication:
    today = timezone.localdate()
    return SubsidyApplication.objects.create(
        programme=programme,
        applicant=user,
        beneficiary=user,
        district=district,
        period_start=today,
        period_end=today,
        details={"months": 2, "business_name": "张三设计工作室", "monthly_rent": "1500.00"},
        dedupe_key=key,
        status=status,
        amount=Decimal(amount),
        eligibility=PERSONAL_SNAPSHOT,
    )


def graduate_with_rows(district, *, open_records: bool = True) -> dict:
    """A graduate of ``district`` with, in every programme, a closed record that holds personal
    data and, when ``open_records``, an open one. Returns the rows by name."""
    user = make_housing_graduate(district=district)
    degree = user.documents.get(kind=DocumentKind.DEGREE_CERTIFICATE)
    cv = give_letter(user, kind=DocumentKind.CV)
    letter = give_letter(user)
    rows: dict = {"user": user, "profile": user.profile, "documents": [degree, cv, letter]}

    # jobs: a rejected application with a cover note, a CV, shared papers and an interview note.
    job = JobApplicationFactory(applicant=user, rejected=True, cv=cv, cover_note=PRIVATE_TEXT)
    job.shared_documents.add(degree)
    Interview.objects.create(
        application=job, starts_at=timezone.now() - dt.timedelta(days=5), place="开元大道 1 号", note=PRIVATE_TEXT
    )
    rows["job_closed"] = job

    # events: a registration of a past event with answers, a subscription, a calendar feed.
    past = EventFactory(published=True, past=True)
    rows["registration_past"] = RegistrationFactory(event=past, user=user, attended=True, answers={"专业": "机械工程"})
    Subscription.objects.create(user=user, district=district)
    CalendarFeed.objects.create(user=user)

    # youth stations: a checked-out stay with a letter, a snapshot and a follow-up answer.
    station = StationFactory(district=district)
    stay = StayFactory(
        applicant=user, station=station, checked_out=True, eligibility=PERSONAL_SNAPSHOT, invitation_document=letter
    )
    FollowUpFactory(
        stay=stay, answered=True, outcome=FollowUpOutcome.SEARCHING, employer="洛阳某公司", note=PRIVATE_TEXT
    )
    BedAlert.objects.create(
        user=user, station=station, start=timezone.localdate(), end=timezone.localdate() + dt.timedelta(days=2)
    )
    rows["stay_closed"] = stay
    rows["station"] = station

    # housing: a rejected application with a note and papers; an ended lease with notes.
    project = make_project(district)
    closed_round = make_round(project, name="2025年第一批", status="closed")
    housing = HousingApplication.objects.create(
        round=closed_round,
        applicant=user,
        status=HousingApplicationStatus.REJECTED,
        note=PRIVATE_TEXT,
        eligibility=PERSONAL_SNAPSHOT,
        status_reason="材料不全",
    )
    housing.documents.add(degree)
    housing.unit_types.set(project.unit_types.all())
    rows["housing_closed"] = housing
    unit = Unit.objects.filter(project=project).first()
    lease = Lease.objects.create(
        unit=unit,
        tenant=user,
        start=timezone.localdate() - dt.timedelta(days=400),
        end=timezone.localdate() - dt.timedelta(days=35),
        monthly_rent=Decimal("1200.00"),
        rent_free_months=3,
        status=LeaseStatus.ENDED,
        ended_on=timezone.localdate() - dt.timedelta(days=35),
        move_out_notes=PRIVATE_TEXT,
    )
    LeaseRecheck.objects.create(
        lease=lease, due_on=lease.start + dt.timedelta(days=365), answer=RecheckAnswer.LEFT, employer="洛阳某公司"
    )
    rows["lease_ended"] = lease
    rows["project"] = project

    # subsidies: a paid application with its ledger entry, check, papers and an objection.
    paid = _subsidy(
        Programme.objects.get(code="interview-travel"), user, district, status=SubsidyStatus.PAID, key="paid"
    )
    paid.documents.add(degree)
    LedgerEntry.objects.create(
        application=paid,
        programme=paid.programme,
        budget_year=timezone.localdate().year,
        amount=paid.amount,
        paid_at=timezone.now(),
        payment_reference="PAY-2026-0001",
    )
    EligibilityCheck.objects.create(
        application=paid, sequence=1, eligible=True, amount=paid.amount, rule_version="1", result=PERSONAL_SNAPSHOT
    )
    Objection.objects.create(application=paid, filed_by=user, text=PRIVATE_TEXT)
    rows["subsidy_paid"] = paid

    NotificationFactory(user=user, body=PRIVATE_TEXT)

    if open_records:
        rows["job_open"] = JobApplicationFactory(applicant=user, status=ApplicationStatus.SUBMITTED)
        future = EventFactory(published=True)
        rows["registration_open"] = RegistrationFactory(event=future, user=user, answers={"专业": "机械工程"})
        rows["stay_open"] = StayFactory(applicant=user, station=station, status=StayStatus.BOOKED, hold_beds=True)
        rows["housing_open"] = housing_apply(user, make_round(project, name="2026年第二批"))
        other = Programme.objects.filter(applicant_kind="graduate").exclude(code="interview-travel").first()
        rows["subsidy_open"] = _subsidy(other, user, district, status=SubsidyStatus.SUBMITTED, key="open")
    return rows


def log_profile_change(profile, staff) -> LogEntry:
    """An admin change-log entry that names the profile by its text at the time."""
    return LogEntry.objects.create(
        user=staff,
        content_type=ContentType.objects.get_for_model(profile),
        object_id=str(profile.pk),
        object_repr=str(profile),
        action_flag=CHANGE,
        change_message="[]",
    )
