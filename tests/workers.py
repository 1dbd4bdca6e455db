"""Real-worker helpers shared by the task tests (housing, subsidies): the worker's environment,
``celery -A portal worker`` processes started and stopped around a test, the test broker
purged before and after, waiting for what a worker does, and a row held locked so that a
worker can be killed while it waits. The fixtures stay in the test
modules and delegate here."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path


def worker_env(tmp_path: Path) -> dict:
    """The worker's environment, as in tests/portal/test_celery_integration.py: the test
    database, the test broker, mail and SMS written to files."""
    from tests.portal.test_celery_integration import REDIS_URL, database_url

    (tmp_path / "sms").mkdir(exist_ok=True)
    (tmp_path / "mail").mkdir(exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_SMS_BACKEND": "portal.sms.FileSmsBackend",
        "SMS_FILE_PATH": str(tmp_path / "sms"),
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "TEST_EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "PYTHONUNBUFFERED": "1",
    }


def worker_starter(tmp_path: Path, prefix: str):
    """For a ``start_worker`` fixture (``yield from``): yields ``start(name)``, which starts a
    real worker named ``<prefix>-<name>-…`` with its own log and waits until it is ready; all
    started workers are stopped when the fixture is torn down."""
    from tests.portal.test_celery_integration import REPO_ROOT, Worker, wait_for

    started: list[Worker] = []

    def start(name: str) -> Worker:
        env = worker_env(tmp_path)
        log_path = tmp_path / f"{name}.log"
        command = [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "-l", "info", "-P", "solo", "-n", f"{prefix}-{name}-{time.time_ns()}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        worker = Worker(process, log_path, tmp_path / "sms", tmp_path / "mail")
        started.append(worker)
        wait_for(lambda: " ready." in worker.log(), f"the worker {name} to start", worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.terminate()
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)


def purged_broker():
    """For a ``broker`` fixture (``yield from``): this process publishes to the test Redis,
    which is purged before and after; yields the Redis client."""
    import redis

    from tests.portal.test_celery_integration import REDIS_URL, sending_to

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    with sending_to(REDIS_URL):
        yield client
    client.flushdb()


def wait(predicate, what: str, worker=None, timeout: float = 60):
    from tests.portal.test_celery_integration import wait_for

    return wait_for(predicate, what, worker, timeout=timeout)


@contextmanager
def row_locked(model, pk: int):
    """Hold one row's lock from another connection (as a long transaction would), so a task
    that reaches its first write on that row waits there."""
    from django.db import connection, transaction

    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                model.objects.select_for_update().get(pk=pk)
                locked.set()
                release.wait(timeout=120)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert locked.wait(timeout=30)
    try:
        yield
    finally:
        release.set()
        thread.join(timeout=30)


def backends_waiting_for_a_lock() -> int:
    """How many PostgreSQL backends of the test database wait for a lock."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
