"""Task benchmark: notification deliveries per second, each against a baseline measured in
the same run.

1. In-process (always): ``notify_batch_create`` for N users with Celery eager, so every
   e-mail delivery is also sent, against a bare ``Notification.objects.bulk_create`` of N rows.
2. Through a real Redis broker and a real ``celery worker`` (when Redis answers and
   DATABASE_URL is PostgreSQL, which the worker process shares): N ``deliver_notification``
   tasks against N no-op tasks, and one fan-out batch of N users end to end.

E-mail and SMS go to in-memory backends, so the figures measure the portal, not a mail relay.
Only 127.0.0.1 is used; the broker is a separate Redis database (14 by default).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_tasks.py
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    VENV_BIN,
    bench_environment,
    database_label,
    is_postgres,
    print_table,
    setup_django,
)

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
USER_PREFIX = "bench-task-"


def redis_answers(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis at {url} does not answer: {exc}"
    return None


def bench_users(count: int) -> list[int]:
    from portal.models import User

    User.objects.filter(username__startswith=USER_PREFIX).delete()
    User.objects.bulk_create(
        [
            User(username=f"{USER_PREFIX}{i}", email=f"{USER_PREFIX}{i}@bench.invalid", password="!bench")
            for i in range(count)
        ],
        batch_size=1000,
    )
    return list(User.objects.filter(username__startswith=USER_PREFIX).values_list("pk", flat=True))


def cleanup() -> None:
    from portal.models import User

    User.objects.filter(username__startswith=USER_PREFIX).delete()


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"Gave up waiting for {what} after {timeout:.0f} s.")
        time.sleep(0.05)


def in_process(user_ids: list[int]) -> list[tuple[str, int, float]]:
    from portal.celery import app
    from portal.constants import DeliveryStatus
    from portal.models import Delivery, Notification
    from portal.services.notifications import notify_batch_create

    n = len(user_ids)
    run = uuid.uuid4().hex[:8]
    bare = timed(
        lambda: Notification.objects.bulk_create(
            [
                Notification(user_id=pk, kind="announcement", title="t", body="b", key=f"bare:{run}:{pk}")
                for pk in user_ids
            ],
            batch_size=1000,
        )
    )
    fanout = uuid.uuid4().hex
    app.conf.task_always_eager = True
    try:
        full = timed(
            lambda: notify_batch_create(
                user_ids=user_ids,
                kind="announcement",
                context={"title": "基准测试", "body": "洛阳青年人才服务平台基准测试消息。"},
                link="/notifications/",
                fanout=fanout,
            )
        )
    finally:
        app.conf.task_always_eager = False
    sent = Delivery.objects.filter(notification__key__startswith=f"{fanout}:", status=DeliveryStatus.SENT).count()
    if sent != n:
        raise SystemExit(f"In-process fan-out sent {sent} of {n} deliveries.")
    return [
        ("in-process: bare Notification bulk_create (baseline)", n, bare),
        ("in-process: notify_batch_create + eager e-mail deliveries", n, full),
    ]


def start_worker(concurrency: int) -> subprocess.Popen:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.Popen(
        [
            str(VENV_BIN / "celery"),
            "-A",
            "portal",
            "--quiet",
            "worker",
            "-I",
            "bench.noop_task",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "warning",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"bench-{uuid.uuid4().hex[:6]}@%h",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def through_worker(user_ids: list[int], concurrency: int, broker: str) -> list[tuple[str, int, float]]:
    import redis

    from portal.celery import app
    from portal.constants import Channel, DeliveryStatus
    from portal.models import Delivery, Notification
    from portal.tasks import deliver_notification, notify_batch

    n = len(user_ids)
    timeout = max(120.0, n * 0.5)
    app.control.purge()
    proc = start_worker(concurrency)
    try:

        def worker_up_or_gone() -> bool:
            return proc.poll() is not None or bool(app.control.ping(timeout=0.5))

        wait_for(worker_up_or_gone, 60, "the worker to start")
        if proc.poll() is not None:
            raise SystemExit(f"celery worker exited with code {proc.returncode}.")

        # Baseline: N empty tasks through the same broker and worker.
        client = redis.Redis.from_url(broker)
        counter = f"bench:noop:{uuid.uuid4().hex}"
        client.set(counter, 0)

        def run_noop():
            for _ in range(n):
                app.send_task("bench.noop", args=[counter])
            wait_for(lambda: int(client.get(counter) or 0) >= n, timeout, "the no-op tasks")

        noop = timed(run_noop)
        client.delete(counter)

        # Deliveries: the rows exist, then N tasks send them (locked row, status check, e-mail).
        run = uuid.uuid4().hex[:8]
        notifications = Notification.objects.bulk_create(
            [
                Notification(user_id=pk, kind="announcement", title="基准测试", body="消息", key=f"deliv:{run}:{pk}")
                for pk in user_ids
            ]
        )
        deliveries = Delivery.objects.bulk_create(
            [Delivery(notification=x, channel=Channel.EMAIL, key=f"{x.pk}:{Channel.EMAIL}") for x in notifications]
        )
        ids = [d.pk for d in deliveries]
        sent = Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.SENT)

        def run_deliveries():
            for pk in ids:
                deliver_notification.delay(pk)
            wait_for(lambda: sent.count() >= n, timeout, "the deliveries")

        delivered = timed(run_deliveries)

        # A fan-out batch end to end: one notify_batch task writes N notifications and
        # deliveries and queues N delivery tasks, which the worker then sends.
        fanout = uuid.uuid4().hex
        fanned = Delivery.objects.filter(notification__key__startswith=f"{fanout}:", status=DeliveryStatus.SENT)

        def run_fanout():
            notify_batch.delay(user_ids, "announcement", {"title": "基准测试", "body": "消息"}, "", fanout)
            wait_for(lambda: fanned.count() >= n, timeout, "the fan-out deliveries")

        fan = timed(run_fanout)
    finally:
        stop_worker(proc)
        app.control.purge()
    return [
        (f"worker x{concurrency}: no-op task (baseline)", n, noop),
        (f"worker x{concurrency}: deliver_notification (e-mail)", n, delivered),
        (f"worker x{concurrency}: notify_batch fan-out, end to end", n, fan),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=500, help="users, notifications and deliveries per step")
    parser.add_argument("--concurrency", type=int, default=4, help="worker processes")
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    if urlsplit(args.broker).hostname not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: --broker must be a loopback address.")
    db_host = urlsplit(os.environ.get("DATABASE_URL", "")).hostname
    if db_host and db_host not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: DATABASE_URL must point at a loopback address.")

    bench_environment()
    skip = redis_answers(args.broker)
    if skip is None and not is_postgres():
        skip = "DATABASE_URL is not PostgreSQL (the worker process must share the database)"
    if skip is None:
        os.environ["CELERY_BROKER_URL"] = args.broker
    else:
        os.environ.pop("CELERY_BROKER_URL", None)
    setup_django()

    user_ids = bench_users(args.deliveries)
    try:
        rows = in_process(user_ids)
        if skip is None:
            rows += through_worker(user_ids, args.concurrency, args.broker)
    finally:
        cleanup()

    print()
    print(f"Tasks: {args.deliveries} per step   database: {database_label()}")
    print(f"Broker: {args.broker if skip is None else 'none (skipped the worker part: ' + skip + ')'}")
    table = []
    baseline = None
    for label, count, seconds in rows:
        rate = count / seconds
        if "baseline" in label:
            baseline = rate
        share = "" if baseline is None or "baseline" in label else f"{rate / baseline:.0%}"
        table.append([label, str(count), f"{seconds:.2f}", f"{rate:.0f}", share])
    print_table(["measurement", "n", "seconds", "per second", "of baseline"], table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
