"""Notifications through a real Redis broker and a real ``celery -A portal worker`` process:
what the unit tests do eagerly happens here across processes, as in production."""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import kombu.pools
import pytest
from django.db import connection

from portal import services, tasks
from portal.celery import app
from portal.constants import Channel, DeliveryStatus
from portal.models import Delivery
from tests.portal.factories import UserFactory

# The worker only sees committed rows (transaction=True); serialized_rollback puts back the
# migration data (districts) afterwards, as the other transactional tests of the suite expect.
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30  # seconds; a delivery normally takes well under one


def wait_for(predicate, what: str, worker=None, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode} while waiting for {what}:\n{worker.log()}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout} s waiting for {what}" + (f"\n{worker.log()}" if worker else ""))


def database_url() -> str:
    """The URL of the test database this process uses, so the worker sees the same rows."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen, log_path: Path, sms_dir: Path, mail_dir: Path):
        self.process = process
        self.log_path = log_path
        self.sms_dir = sms_dir
        self.mail_dir = mail_dir

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def received(self, task_name: str) -> int:
        return sum(1 for line in self.log().splitlines() if f"Task {task_name}[" in line and line.endswith(" received"))

    def sms_lines(self) -> list[dict]:
        path = self.sms_dir / "outbox.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def mails(self) -> list[str]:
        return [p.read_text(encoding="utf-8") for p in sorted(self.mail_dir.glob("*.log"))]


@contextmanager
def sending_to(url: str):
    """Make this process publish tasks to ``url`` instead of running them eagerly."""
    saved = {k: app.conf[k] for k in ("task_always_eager", "broker_url")}

    def drop_connections():
        # Celery builds its connection and producer pools from broker_url on first use and keeps
        # them (kombu registers them globally): close them all, as Celery does after a fork.
        kombu.pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    drop_connections()
    app.conf.task_always_eager = False
    app.conf.broker_url = url
    try:
        yield
    finally:
        drop_connections()
        app.conf.update(saved)


@pytest.fixture
def redis_broker():
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # purge the queue and any unacked message left by an earlier run
    with sending_to(REDIS_URL):
        yield client
    client.flushdb()


@pytest.fixture
def celery_worker(transactional_db, redis_broker, tmp_path):
    """A real worker on the test database; stopped before the database is flushed."""
    sms_dir, mail_dir = tmp_path / "sms", tmp_path / "mail"
    sms_dir.mkdir()
    mail_dir.mkdir()
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "TEST_SMS_BACKEND": "portal.sms.FileSmsBackend",
        "SMS_FILE_PATH": str(sms_dir),
        "TEST_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "TEST_EMAIL_FILE_PATH": str(mail_dir),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "celery", "-A", "portal", "worker",
        "-l", "info", "-P", "solo", "-n", f"portal-test-{os.getpid()}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    worker = Worker(process, log_path, sms_dir, mail_dir)
    try:
        wait_for(lambda: " ready." in worker.log(), "the worker to start", worker)
        yield worker
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_notify_is_delivered_by_a_real_worker(celery_worker):
    user = UserFactory(email="li@example.com", phone="+8613912345678")

    notification = services.notify(user=user, kind="organisation_verified", context={"organisation": "洛阳轴承"})

    deliveries = notification.deliveries.all()
    assert sorted(d.channel for d in deliveries) == [Channel.EMAIL, Channel.SMS]
    wait_for(
        lambda: set(notification.deliveries.values_list("status", flat=True)) == {DeliveryStatus.SENT},
        "both deliveries to be sent",
        celery_worker,
    )
    lines = wait_for(celery_worker.sms_lines, "the SMS file", celery_worker)
    assert len(lines) == 1
    assert lines[0]["to"] == "+8613912345678"
    assert lines[0]["message"] == f"【洛阳青年】{notification.title}。{notification.body}"
    mails = celery_worker.mails()
    assert len(mails) == 1
    assert "To: li@example.com" in mails[0]
    for delivery in notification.deliveries.all():
        assert delivery.attempts == 1
        assert delivery.sent_at is not None
        assert delivery.last_error == ""


def test_the_same_delivery_sent_twice_through_the_broker_goes_out_once(celery_worker, redis_broker):
    user = UserFactory(phone="+8613912345679")
    services.notification_preference_update(user=user, email=False, sms=True)

    notification = services.notify(user=user, kind="organisation_verified", context={"organisation": "洛阳轴承"})
    delivery = Delivery.objects.get(notification=notification)
    assert delivery.channel == Channel.SMS
    # notify() queued one task on commit; a redelivery and a duplicate publish add two more.
    tasks.deliver_notification.delay(delivery.pk)
    tasks.deliver_notification.delay(delivery.pk)

    # With acks_late a message leaves the broker's unacked set only once its task has returned.
    wait_for(
        lambda: (
            celery_worker.received("portal.tasks.deliver_notification") == 3
            and redis_broker.llen("celery") == 0
            and redis_broker.hlen("unacked") == 0
        ),
        "the worker to run the three tasks",
        celery_worker,
    )
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1
    lines = celery_worker.sms_lines()
    assert len(lines) == 1
    assert lines[0]["to"] == "+8613912345679"
