"""The subsidy tasks are thin wrappers around the services: run here eagerly, with the number
of queries a batch of checks takes (it must not grow with the batch); then through a real
Redis broker and a real ``celery -A portal worker`` process: submitted applications are
checked by the worker, a parameter change re-checks them there, and a worker killed with
SIGKILL in the middle of a batch loses nothing and doubles nothing (acks_late, reject on
worker lost, one stored result per check request): every application ends with exactly one
stored check and one notification."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from celery import Task
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobs.constants import PositionKind
from portal.models import Notification, NotificationPreference
from subsidies import constants as c
from subsidies import services, tasks
from subsidies.constants import SubsidyStatus as S
from subsidies.models import EligibilityCheck, Programme, SubsidyApplication
from tests import workers
from tests.apartments import conftest as housing
from tests.apartments.conftest import set_parameter
from tests.subsidies.conftest import make_subsidy_graduate, with_interview
from tests.subsidies.test_services import CHECK_KINDS, employer, hire_graduate, make_application
from tests.workers import wait as _wait

clock = housing.clock

SUBSIDY_TASKS = (
    "subsidy_check",
    "subsidy_checks_batch",
    "subsidies_recheck_users",
    "subsidies_recheck_all",
    "subsidy_notices_close",
    "subsidies_screen",
)


# --- the wrappers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SUBSIDY_TASKS)
def test_each_task_survives_a_killed_worker(name):
    task = getattr(tasks, name)
    assert isinstance(task, Task) and task.name == f"subsidies.tasks.{name}"
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_the_tasks_call_the_services_with_primary_keys(monkeypatch):
    calls = []

    def fake(name):
        return lambda **kwargs: calls.append((name, kwargs)) or 1

    for name in (
        "subsidy_check",
        "subsidy_checks_run",
        "subsidies_recheck",
        "subsidy_notices_close",
        "subsidies_screen",
    ):
        monkeypatch.setattr(services, name, fake(name))
    tasks.subsidy_check(7, 2, "submitted")
    tasks.subsidy_checks_batch([7, 8], "parameter")
    tasks.subsidies_recheck_users([3], "profile")
    tasks.subsidies_recheck_all("parameter")
    tasks.subsidy_notices_close()
    tasks.subsidies_screen()
    assert calls == [
        ("subsidy_check", {"application_id": 7, "sequence": 2, "reason": "submitted"}),
        ("subsidy_checks_run", {"application_ids": [7, 8], "reason": "parameter"}),
        ("subsidies_recheck", {"user_ids": [3], "reason": "profile"}),
        ("subsidies_recheck", {"all_open": True, "reason": "parameter"}),
        ("subsidy_notices_close", {}),
        ("subsidies_screen", {}),
    ]


def test_celery_beat_closes_the_notices_and_screens_daily():
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    for name in ("subsidy_notices_close", "subsidies_screen"):
        schedule = scheduled[f"subsidies.tasks.{name}"]
        assert len(schedule.hour) == 1 and len(schedule.minute) == 1


@pytest.mark.django_db
def test_the_check_task_stores_one_result_per_request(clock, programme, district_1):
    graduate = make_subsidy_graduate(district=district_1)
    with_interview(graduate)
    app = make_application(programme("interview-travel"), graduate, status=S.SUBMITTED, check_sequence=1)
    assert tasks.subsidy_check.apply(args=(app.pk, 1, "submitted")).get() is True
    assert tasks.subsidy_check.apply(args=(app.pk, 1, "submitted")).get() is False  # redelivered
    assert tasks.subsidy_checks_batch.apply(args=([app.pk], "parameter")).get() == 0
    app.refresh_from_db()
    assert (app.status, app.checks.count()) == (S.ELIGIBLE, 1)
    assert Notification.objects.filter(user=graduate, kind__in=CHECK_KINDS).count() == 1


@pytest.mark.django_db
def test_the_notices_and_screening_tasks(clock, programme, district_1):
    graduate = make_subsidy_graduate(district=district_1)
    assert tasks.subsidies_screen.apply().get() == 1  # the rent subsidy
    assert tasks.subsidies_screen.apply().get() == 0
    assert tasks.subsidy_notices_close.apply().get() == 0
    assert Notification.objects.filter(user=graduate, kind="subsidy_screening").count() == 1


# --- query discipline ------------------------------------------------------------------------------


def _applications(programme, district, copies: int) -> list[SubsidyApplication]:
    """``copies`` submitted applications of each of the seven programmes, each waiting for its
    first check (graduates' own, and employers' claims for their trainees and hires)."""
    org, member = employer(district, base=True)
    apps = []
    for n in range(copies):
        graduate = make_subsidy_graduate(district=district)
        with_interview(graduate)
        trainee = make_subsidy_graduate(district=district)
        traineeship = hire_graduate(org, trainee, kind=PositionKind.TRAINEESHIP, hired_on=dt.date(2026, 4, 1))
        job = hire_graduate(org, trainee, kind=PositionKind.JOB, hired_on=dt.date(2026, 5, 4))
        own = {"status": S.SUBMITTED, "check_sequence": 1}
        claim = {**own, "beneficiary": trainee, "organisation": org}
        apps += [
            make_application(programme("interview-travel"), graduate, **own),
            make_application(programme("rent-subsidy"), graduate, details={"months": 3}, **own),
            make_application(programme("startup-loan"), graduate, details={"product": "growth"}, **own),
            make_application(
                programme("incubation-rent"),
                graduate,
                details={
                    "business_name": "青创",
                    "credit_code": f"91410300MA{n:08d}",
                    "months": 6,
                    "monthly_rent": "900",
                },
                **own,
            ),
            make_application(
                programme("traineeship-living"),
                member,
                job_application=traineeship,
                period_start=dt.date(2026, 4, 1),
                period_end=dt.date(2026, 4, 30),
                **claim,
            ),
            make_application(programme("employer-hiring"), member, job_application=job, **claim),
            make_application(
                programme("university-base"),
                member,
                organisation=org,
                details={"university": "河南科技大学"},
                period_start=dt.date(2026 - n, 1, 1),
                **own,
            ),
        ]
    return apps


def _queries(apps: list[SubsidyApplication]) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert services.subsidy_checks_run(application_ids=[a.pk for a in apps], reason="test") == len(apps)
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_the_queries_per_check_do_not_grow_with_the_batch(clock, programme, district_1):
    small = _applications(programme, district_1, 1)
    large = _applications(programme, district_1, 4)
    # First checks: every outcome is new, so each application also moves and tells its
    # applicant (the workflow's transition and the notification); the facts, the parameters
    # and the results are read and written for the whole batch at once.
    first_small, first_large = _queries(small), _queries(large)
    assert first_large / len(large) <= first_small / len(small)
    per_outcome = (first_large - first_small) / (len(large) - len(small))
    assert per_outcome <= 12, per_outcome
    assert SubsidyApplication.objects.filter(pk__in=[a.pk for a in small + large], status=S.SUBMITTED).count() == 0
    # Checks that change nothing (a re-check after a parameter change, say) take the same
    # number of queries for 7 applications as for 28.
    SubsidyApplication.objects.update(check_sequence=2)  # a re-check requested (the tasks not run)
    again_small, again_large = _queries(small), _queries(large)
    assert again_small == again_large, (again_small, again_large)
    assert again_large <= 30


# --- through a real broker and a real worker ---------------------------------------------------------


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start real ``celery -A portal worker`` processes on the test database, each with its
    own log; all are stopped before the database is flushed."""
    yield from workers.worker_starter(tmp_path, "subsidies")


@pytest.fixture
def broker():
    """This process publishes to the test Redis (purged before and after)."""
    yield from workers.purged_broker()


def _graduates(district, n: int, *, interview: bool = True):
    """Graduates who qualify for the interview travel subsidy, with e-mail and SMS off (their
    notifications stay in the inbox, so the worker's queue holds only the checks)."""
    users = []
    for _ in range(n):
        user = make_subsidy_graduate(district=district)
        if interview:
            with_interview(user)
        NotificationPreference.objects.update_or_create(user=user, defaults={"email": False, "sms": False})
        users.append(user)
    return users


def _told(apps) -> dict[int, int]:
    return {app.pk: Notification.objects.filter(user_id=app.applicant_id, kind__in=CHECK_KINDS).count() for app in apps}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_submitted_applications_are_checked_by_a_real_worker(broker, start_worker, district_1):
    interview = Programme.objects.get(code="interview-travel")
    invited = _graduates(district_1, 2)
    uninvited = _graduates(district_1, 1, interview=False)
    broker.delete("celery")  # the set-up's own tasks (uploads, interview invitations) are not at issue
    worker = start_worker("checks")

    apps = [services.subsidy_application_create(programme=interview, applicant=u) for u in invited + uninvited]

    _wait(lambda: EligibilityCheck.objects.filter(application__in=apps).count() == 3, "the three checks", worker)
    statuses = dict(SubsidyApplication.objects.filter(pk__in=[a.pk for a in apps]).values_list("pk", "status"))
    assert [statuses[a.pk] for a in apps] == [S.ELIGIBLE, S.ELIGIBLE, S.INELIGIBLE]
    assert worker.received("subsidies.tasks.subsidy_check") == 3
    check = EligibilityCheck.objects.get(application=apps[0])
    assert check.result["parameters"][c.INTERVIEW_AMOUNT] == "500.0000"
    assert _told(apps) == {a.pk: 1 for a in apps}

    # A parameter change: the worker re-checks every open application, in a batch.
    set_parameter(c.INTERVIEW_AMOUNT, 650, effective_from=timezone.localdate())
    _wait(
        lambda: (
            set(SubsidyApplication.objects.filter(pk__in=[a.pk for a in apps[:2]]).values_list("amount", flat=True))
            == {650}
        ),
        "the re-checked amounts",
        worker,
    )
    assert worker.received("subsidies.tasks.subsidies_recheck_all") == 1
    assert worker.received("subsidies.tasks.subsidy_checks_batch") == 1
    assert EligibilityCheck.objects.filter(application__in=apps, reason="parameter").count() == 3
    assert _told(apps) == {a.pk: 1 for a in apps}  # the outcomes did not change


@pytest.mark.redis
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_in_the_middle_of_a_batch_leaves_one_check_and_one_notification_each(
    broker, start_worker, district_1
):
    interview = Programme.objects.get(code="interview-travel")
    graduates = _graduates(district_1, 5) + _graduates(district_1, 1, interview=False)
    # Six applications waiting for a check, as a re-check leaves them; the first one's own
    # check ran already (the submission's task), so the batch must not store it again.
    apps = [make_application(interview, user, status=S.SUBMITTED, check_sequence=1) for user in graduates]
    assert services.subsidy_check(application_id=apps[0].pk, sequence=1, reason="submitted") is True
    broker.delete("celery")  # the set-up's own tasks (uploads, interview invitations) are not at issue
    tasks.subsidy_checks_batch.delay([a.pk for a in apps], "parameter")
    queued = [json.loads(m)["headers"]["task"] for m in broker.lrange("celery", 0, -1)]
    assert queued == ["subsidies.tasks.subsidy_checks_batch"]

    with workers.row_locked(SubsidyApplication, apps[3].pk):
        first = start_worker("killed")
        _wait(lambda: workers.backends_waiting_for_a_lock() >= 1, "the batch to wait on the locked application", first)
        assert first.received("subsidies.tasks.subsidy_checks_batch") == 1
        first.process.kill()  # SIGKILL in the middle of the batch: no ack is sent
        first.process.wait(timeout=10)
    assert first.process.returncode == -9
    assert broker.hlen("unacked") == 1  # acks_late: the message is kept, unacknowledged
    # The batch stores its results in one transaction: the killed one left nothing behind.
    assert EligibilityCheck.objects.filter(application__in=apps).count() == 1
    assert SubsidyApplication.objects.filter(pk__in=[a.pk for a in apps], status=S.SUBMITTED).count() == 5

    # The broker gives an unacknowledged message to another worker once its visibility
    # timeout has passed; age it by the timeout instead of waiting an hour.
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    [(tag, score)] = broker.zrange("unacked_index", 0, -1, withscores=True)
    broker.zadd("unacked_index", {tag: score - timeout - 60})

    second = start_worker("second")
    _wait(lambda: EligibilityCheck.objects.filter(application__in=apps).count() == 6, "the redelivered batch", second)
    _wait(lambda: broker.hlen("unacked") == 0 and broker.llen("celery") == 0, "the batch acknowledged", second)
    assert second.received("subsidies.tasks.subsidy_checks_batch") == 1
    assert {a.pk: a.checks.count() for a in apps} == {a.pk: 1 for a in apps}
    assert _told(apps) == {a.pk: 1 for a in apps}
    statuses = dict(SubsidyApplication.objects.filter(pk__in=[a.pk for a in apps]).values_list("pk", "status"))
    assert [statuses[a.pk] for a in apps] == [S.ELIGIBLE] * 5 + [S.INELIGIBLE]
    # Running the batch once more (a duplicate message) changes nothing.
    assert services.subsidy_checks_run(application_ids=[a.pk for a in apps]) == 0
