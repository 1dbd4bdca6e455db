"""One application per graduate and position, however many identical requests arrive at
once: the unique constraint decides, and the losers get the same clear message as a
second click would. Run for real on PostgreSQL with concurrent connections, plus a
negative control showing that without the constraint the same schedule lets duplicates
in (so the test can see a race)."""

import contextlib
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection
from django.utils import translation

from jobs import services
from jobs.models import JobApplication, Position
from portal.models import Notification, User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

THREADS = 20


def _submit_all_at_once(position_pk: int, applicant_pk: int, threads: int = THREADS) -> list:
    """Start ``threads`` threads, each with its own database connection, that load the
    position and the graduate, wait at a barrier, and submit the same application."""
    barrier = threading.Barrier(threads)
    results: list = [None] * threads

    def run(i: int) -> None:
        translation.activate("en")
        try:
            position = Position.objects.select_related("organisation", "district").get(pk=position_pk)
            applicant = User.objects.get(pk=applicant_pk)
            barrier.wait(timeout=30)
            results[i] = services.job_application_submit(position=position, applicant=applicant)
        except Exception as exc:  # collected and asserted by the test
            results[i] = exc
        finally:
            translation.deactivate()
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    return results


def test_twenty_identical_applications_at_once_make_exactly_one(position, graduate_a, employer_x):
    results = _submit_all_at_once(position.pk, graduate_a.pk)

    created = [r for r in results if isinstance(r, JobApplication)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(created) == 1
    assert len(refused) == THREADS - 1
    assert not [r for r in results if isinstance(r, IntegrityError)]
    assert not [r for r in results if not isinstance(r, JobApplication | ValidationError)], results
    assert {(e.code, e.message) for e in refused} == {("duplicate", "You have already applied for this position.")}
    assert JobApplication.objects.filter(position=position, applicant=graduate_a).count() == 1
    # The employer hears about it once.
    assert Notification.objects.filter(user=employer_x, kind="application_received").count() == 1


@contextlib.contextmanager
def _without_the_unique_constraint():
    constraint = next(c for c in JobApplication._meta.constraints if c.name == "one_application_per_position")
    with connection.schema_editor() as editor:
        editor.remove_constraint(JobApplication, constraint)
    try:
        yield
    finally:
        JobApplication.objects.all().delete()  # duplicates would keep the constraint from coming back
        with connection.schema_editor() as editor:
            editor.add_constraint(JobApplication, constraint)


def test_negative_control_without_the_constraint_duplicates_get_in(position, graduate_a):
    """The same 20 threads through the same service, with only the database constraint
    removed: the service's own "already applied?" check passes in several threads before
    any of them commits, so more than one row is written. This shows the barrier makes
    the submissions truly concurrent, and that the constraint is what keeps them to one."""
    with _without_the_unique_constraint():
        results = _submit_all_at_once(position.pk, graduate_a.pk)
        rows = JobApplication.objects.filter(position=position, applicant=graduate_a).count()

    created = [r for r in results if isinstance(r, JobApplication)]
    assert rows > 1, f"no race observed: {rows} row(s); outcomes {sorted({type(r).__name__ for r in results})}"
    assert len(created) == rows
    # Restored: the constraint is back and refuses a duplicate.
    first = JobApplication.objects.create(position=position, applicant=graduate_a)
    with pytest.raises(IntegrityError):
        JobApplication.objects.create(position=position, applicant=graduate_a)
    assert first.pk
