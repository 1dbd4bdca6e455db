"""The retention job (ADR 0009): closed applications of every programme, closed longer ago than
the policy parameter ``privacy-retention-days``, lose their free texts, answers, attachments and
personal snapshot and keep status, decision, dates and amounts; open and recent ones are left
alone; the job is batched, idempotent, audited, scheduled nightly and runnable by hand."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from apartments.constants import HousingApplicationStatus
from apartments.models import FollowUp, HousingApplication, Lease, LeaseRecheck, Stay
from events.models import Event, Registration
from jobs.models import Interview, JobApplication
from portal import services
from portal.constants import AuditAction
from portal.models import AuditEntry, Parameter
from portal.selectors import parameter_value
from portal.services.deletion import RETENTION_DAYS
from subsidies.models import EligibilityCheck, LedgerEntry, Objection, SubsidyApplication
from tests.jobs.factories import JobApplicationFactory
from tests.portal.privacy_rows import PRIVATE_TEXT, graduate_with_rows

pytestmark = pytest.mark.django_db

SECTIONS = ("apartments", "events", "jobs", "subsidies")


@pytest.fixture
def rows(district_1):
    return graduate_with_rows(district_1)


def _age(days: int) -> None:
    """Every application closed (and last changed) ``days`` ago; the past event ended then."""
    then = timezone.now() - dt.timedelta(days=days)
    for model in (JobApplication, Stay, HousingApplication, Lease, SubsidyApplication):
        model.objects.update(updated_at=then)
    Event.objects.filter(ends_at__lt=timezone.now()).update(starts_at=then - dt.timedelta(hours=2), ends_at=then)


def test_the_period_starts_at_two_years_and_is_a_dated_parameter():
    assert parameter_value(key=RETENTION_DAYS) == 730
    Parameter.objects.create(key=RETENTION_DAYS, value=90, effective_from=timezone.localdate(), note="test")
    assert parameter_value(key=RETENTION_DAYS) == 90


def test_closed_records_past_the_period_are_anonymised(rows):
    _age(days=731)

    counts = services.retention_run()

    assert counts == {"apartments": 3, "events": 1, "jobs": 1, "subsidies": 1, "deletion_requests": 0}
    job = JobApplication.objects.get(pk=rows["job_closed"].pk)
    assert (job.status, job.status_reason, job.cover_note, job.cv_id) == ("rejected", "岗位已满", "", None)
    assert not job.shared_documents.exists()
    assert Interview.objects.get(application=job).note == ""
    assert Registration.objects.get(pk=rows["registration_past"].pk).answers == {}
    stay = Stay.objects.get(pk=rows["stay_closed"].pk)
    assert stay.status == "checked_out" and stay.invitation_document_id is None and stay.eligibility["anonymised"]
    assert FollowUp.objects.get(stay=stay).note == ""
    housing = HousingApplication.objects.get(pk=rows["housing_closed"].pk)
    assert (housing.status, housing.status_reason, housing.note) == ("rejected", "材料不全", "")
    assert not housing.documents.exists()
    lease = Lease.objects.get(pk=rows["lease_ended"].pk)
    assert lease.move_out_notes == "" and lease.monthly_rent == Decimal("1200.00")
    assert LeaseRecheck.objects.get(lease=lease).employer == ""
    paid = SubsidyApplication.objects.get(pk=rows["subsidy_paid"].pk)
    assert (paid.status, paid.amount, paid.details) == (
        "paid",
        Decimal("500.00"),
        {"months": 2, "monthly_rent": "1500.00"},
    )
    assert not paid.documents.exists()
    assert EligibilityCheck.objects.get(application=paid).result["criteria"][0] == {
        "code": "hukou",
        "passed": True,
        "blocking": True,
    }
    assert Objection.objects.get(application=paid).text == ""
    assert LedgerEntry.objects.get(application=paid).amount == Decimal("500.00")
    # The person's own documents stay in their library: only the links from closed records go.
    assert rows["user"].documents.count() == 3


def test_open_records_are_left_alone_however_old(rows):
    _age(days=2000)

    services.retention_run()

    assert JobApplication.objects.get(pk=rows["job_open"].pk).cover_note
    assert Registration.objects.get(pk=rows["registration_open"].pk).answers == {"专业": "机械工程"}
    assert "anonymised" not in Stay.objects.get(pk=rows["stay_open"].pk).eligibility
    open_housing = HousingApplication.objects.get(pk=rows["housing_open"].pk)
    assert "anonymised" not in open_housing.eligibility and open_housing.documents.exists()
    assert SubsidyApplication.objects.get(pk=rows["subsidy_open"].pk).details["business_name"]
    # The account and the profile are not the job's business.
    assert rows["user"].profile.real_name == type(rows["profile"]).objects.get(pk=rows["profile"].pk).real_name


def test_records_closed_within_the_period_are_kept(rows):
    _age(days=729)

    counts = services.retention_run()

    assert all(counts[section] == 0 for section in SECTIONS)
    assert JobApplication.objects.get(pk=rows["job_closed"].pk).cover_note == PRIVATE_TEXT


def test_staff_change_the_period(rows):
    _age(days=100)
    assert services.retention_run()["jobs"] == 0

    Parameter.objects.create(key=RETENTION_DAYS, value=90, effective_from=timezone.localdate(), note="shorter")

    assert services.retention_run()["jobs"] == 1


def test_the_job_is_idempotent_and_audits_each_record(rows):
    _age(days=731)

    first = services.retention_run()
    second = services.retention_run()

    assert sum(first[s] for s in SECTIONS) == 6
    assert all(second[s] == 0 for s in SECTIONS)
    entries = AuditEntry.objects.filter(action=AuditAction.RETENTION)
    assert entries.count() == 6
    assert {e.content_type.model for e in entries} == {
        "jobapplication",
        "registration",
        "stay",
        "housingapplication",
        "lease",
        "subsidyapplication",
    }
    job_entry = entries.get(content_type__model="jobapplication")
    assert job_entry.object_id == str(rows["job_closed"].pk) and job_entry.actor is None


def test_the_job_works_in_batches(district_1):
    applications = JobApplicationFactory.create_batch(5, rejected=True, cover_note=PRIVATE_TEXT)
    _age(days=731)

    counts = services.retention_run(batch_size=2)

    assert counts["jobs"] == 5
    assert not JobApplication.objects.filter(pk__in=[a.pk for a in applications]).exclude(cover_note="").exists()


def test_a_housed_application_waits_for_the_end_of_the_tenancy(rows):
    housing = rows["housing_closed"]
    HousingApplication.objects.filter(pk=housing.pk).update(status=HousingApplicationStatus.HOUSED)
    lease = rows["lease_ended"]
    Lease.objects.filter(pk=lease.pk).update(status="active")
    _age(days=731)

    services.retention_run()
    assert HousingApplication.objects.get(pk=housing.pk).note == PRIVATE_TEXT

    Lease.objects.filter(pk=lease.pk).update(status="ended")
    services.retention_run()
    assert HousingApplication.objects.get(pk=housing.pk).note == ""


def test_the_command_runs_the_job(rows):
    _age(days=731)
    out = StringIO()

    call_command("privacy_retention", stdout=out)

    assert "jobs: 1" in out.getvalue()
    assert JobApplication.objects.get(pk=rows["job_closed"].pk).cover_note == ""


def test_the_task_is_scheduled_nightly_and_runs(rows):
    from portal.tasks import privacy_retention_run

    entry = settings.CELERY_BEAT_SCHEDULE["privacy-retention"]
    assert entry["task"] == privacy_retention_run.name
    assert entry["schedule"].hour == {2}
    _age(days=731)

    assert privacy_retention_run()["jobs"] == 1
