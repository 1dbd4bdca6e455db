"""Announcement benchmark: an organiser announces an event to 10,000 subscribers through a real
Redis broker and real ``celery worker`` processes (issue 7, target: 10,000 in-app
notifications in at most 30 s).

What it does, bounded and on 127.0.0.1 only:

1. Uses the PostgreSQL server and credentials of DATABASE_URL with a database of its own
   (``portal_bench_announce`` unless ``--database`` says otherwise), created and migrated when
   missing. Creates 10,000 subscriber accounts following 洛龙区 and one published event there
   (bulk inserts, idempotent: a second run adds nothing).
2. Starts ``--processes`` worker processes of ``--concurrency`` each on a Redis database of its
   own (``--broker``, which must be empty: the benchmark purges it).
3. Baselines, in the same run: a bare ``Notification.objects.bulk_create`` of the same number
   of rows in this process, and the same number of no-op tasks through the same broker and
   workers.
4. ``events.services.event_announce`` as the organiser calls it from the page, twice:
   (a) subscribers who turned e-mail and SMS off (NotificationPreference), so the work is the
   in-app notifications only; (b) subscribers with e-mail on, so every notification also has
   an e-mail delivery, sent by its own task (to Django's in-memory mail backend: the figures
   measure the portal, not a mail relay). It times until every notification exists and, for
   (b), until every delivery is sent.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_announce.py
    ... [--subscribers 10000] [--processes 2] [--concurrency 2] [--broker redis://127.0.0.1:6379/10]
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
from urllib.parse import urlsplit, urlunsplit

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
USER_PREFIX = "bench-announce-"
STAFF_USERNAME = "bench-announce-organiser"
EVENT_TITLE = "基准测试：洛龙区青年人才发展论坛"
TARGET_SECONDS = 30.0


# --- set-up ------------------------------------------------------------------------------------


def dedicated_database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def redis_problem(url: str) -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:
        return f"Redis at {url} does not answer: {exc}"
    if client.dbsize():
        return f"the broker database {url} is not empty; choose a free one with --broker (it is purged)"
    return None


def subscribers(count: int, district) -> list[int]:
    """``count`` subscribers of the district, created in bulk once and reused."""
    from events.models import Subscription
    from portal.constants import Role
    from portal.models import NotificationPreference, User

    wanted = [f"{USER_PREFIX}{i:05d}" for i in range(count)]
    have = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(
                username=name,
                email=f"{name}@bench.invalid",
                password="!bench",
                role=Role.GRADUATE,
                language="zh-hans",
            )
            for name in wanted
            if name not in have
        ],
        batch_size=2000,
    )
    ids = list(User.objects.filter(username__in=wanted).order_by("pk").values_list("pk", flat=True))
    Subscription.objects.bulk_create(
        [Subscription(user_id=pk, district=district, kind="") for pk in ids], batch_size=2000, ignore_conflicts=True
    )
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user_id=pk) for pk in ids], batch_size=2000, ignore_conflicts=True
    )
    return ids


def organiser_and_event(district):
    """City staff and a published forum in the district (made through the services once)."""
    import datetime as dt

    from django.utils import timezone

    from events import services
    from events.constants import EventKind, EventStatus
    from events.models import Event
    from portal.constants import Role
    from portal.models import User

    staff, _ = User.objects.get_or_create(
        username=STAFF_USERNAME, defaults={"role": Role.CITY_STAFF, "is_staff": True, "password": "!bench"}
    )
    event = Event.objects.filter(title=EVENT_TITLE, status=EventStatus.PUBLISHED, starts_at__gt=timezone.now()).first()
    if event is None:
        now = timezone.now().replace(second=0, microsecond=0)
        starts = now + dt.timedelta(days=30)
        event = services.event_create(
            actor=staff,
            data={
                "kind": EventKind.FORUM,
                "title": EVENT_TITLE,
                "description": "洛阳青年人才服务平台公告基准测试。",
                "district": district,
                "place": "洛阳市洛龙区开元大道 200 号",
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=3),
                "capacity": 500,
                "registration_opens": now,
                "registration_closes": starts - dt.timedelta(hours=2),
            },
        )
        services.event_publish(event=event, actor=staff)
    return staff, event


# --- workers --------------------------------------------------------------------------------------


def start_workers(processes: int, concurrency: int) -> list[subprocess.Popen]:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    run = uuid.uuid4().hex[:6]
    return [
        subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "portal",
                "--quiet",
                "worker",
                "-I",
                "bench.noop_task",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "warning",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"bench-announce-{run}-{i}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        for i in range(processes)
    ]


def stop_workers(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for(predicate, timeout: float, what: str, procs: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if any(p.poll() is not None for p in procs):
            raise SystemExit(f"A celery worker exited while waiting for {what}.")
        if time.monotonic() > deadline:
            raise SystemExit(f"Gave up waiting for {what} after {timeout:.0f} s.")
        time.sleep(0.05)


# --- measurements ------------------------------------------------------------------------------------


def bare_bulk_create(user_ids: list[int]) -> float:
    from portal.models import Notification

    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    Notification.objects.bulk_create(
        [
            Notification(user_id=pk, kind="event_announcement", title="基准", body="基准", key=f"bare:{run}:{pk}")
            for pk in user_ids
        ],
        batch_size=1000,
    )
    seconds = time.perf_counter() - started
    Notification.objects.filter(key__startswith=f"bare:{run}:").delete()
    return seconds


def noop_tasks(n: int, broker: str, procs, timeout: float) -> float:
    import redis

    from portal.celery import app

    client = redis.Redis.from_url(broker)
    counter = f"bench:announce:noop:{uuid.uuid4().hex}"
    client.set(counter, 0)
    started = time.perf_counter()
    for _ in range(n):
        app.send_task("bench.noop", args=[counter])
    wait_for(lambda: int(client.get(counter) or 0) >= n, timeout, "the no-op tasks", procs)
    seconds = time.perf_counter() - started
    client.delete(counter)
    return seconds


def announce(staff, event, user_ids: list[int], *, email: bool, procs, timeout: float) -> dict:
    """One announcement, timed from the organiser's click until every in-app notification
    exists and (with e-mail on) every e-mail delivery is sent."""
    from django.urls import reverse

    from events import services
    from portal.constants import DeliveryStatus
    from portal.models import Delivery, Notification, NotificationPreference

    NotificationPreference.objects.filter(user_id__in=user_ids).update(email=email, sms=False)
    mine = Notification.objects.filter(kind="event_announcement", link=reverse("events:event", args=[event.pk]))
    mine.delete()  # the previous run's (deliveries go with them)
    sent = Delivery.objects.filter(notification__in=mine, status=DeliveryStatus.SENT)

    started = time.perf_counter()
    n = services.event_announce(event=event, actor=staff)  # autocommit: the batches are queued at once
    queued = time.perf_counter() - started
    wait_for(lambda: mine.count() >= n, timeout, "the in-app notifications", procs)
    notified = time.perf_counter() - started
    delivered = None
    if email:
        wait_for(lambda: sent.count() >= n, timeout, "the e-mail deliveries", procs)
        delivered = time.perf_counter() - started
    deliveries = Delivery.objects.filter(notification__in=mine).count()
    return {"n": n, "queued": queued, "notified": notified, "delivered": delivered, "deliveries": deliveries}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size of each worker process")
    parser.add_argument("--broker", default=os.environ.get("BENCH_ANNOUNCE_BROKER_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--database", default="portal_bench_announce", help="database name on the DATABASE_URL server")
    parser.add_argument("--timeout", type=float, default=300.0, help="give up on a step after this many seconds")
    args = parser.parse_args()

    if not is_postgres():
        sys.exit(
            "bench_announce.py needs PostgreSQL (the workers share the database): "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal"
        )
    if urlsplit(args.broker).hostname not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: --broker must be a loopback address.")
    if urlsplit(os.environ["DATABASE_URL"]).hostname not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: DATABASE_URL must point at a loopback address.")
    problem = redis_problem(args.broker)
    if problem:
        sys.exit(f"bench_announce.py: {problem}")

    os.environ["DATABASE_URL"] = dedicated_database_url(os.environ["DATABASE_URL"], args.database)
    os.environ["CELERY_BROKER_URL"] = args.broker
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    bench_environment()
    started = time.perf_counter()
    setup_django()

    from portal.celery import app
    from portal.models import District

    district = District.objects.get(code="luolong")
    user_ids = subscribers(args.subscribers, district)
    staff, event = organiser_and_event(district)
    print(
        f"Set-up: {len(user_ids):,} subscribers of {district}, event #{event.pk} ({time.perf_counter() - started:.1f} s)"
    )

    rows: list[tuple[str, int, float]] = []
    rows.append(("in-process: bare Notification bulk_create (baseline)", len(user_ids), bare_bulk_create(user_ids)))
    workers = args.processes * args.concurrency
    app.control.purge()
    procs = start_workers(args.processes, args.concurrency)
    results = {}
    try:
        wait_for(lambda: len(app.control.ping(timeout=0.5)) >= args.processes, 60, "the workers to start", procs)
        rows.append(
            (
                f"workers {args.processes}x{args.concurrency}: no-op tasks (baseline)",
                len(user_ids),
                noop_tasks(len(user_ids), args.broker, procs, args.timeout),
            )
        )
        results["in_app"] = announce(staff, event, user_ids, email=False, procs=procs, timeout=args.timeout)
        results["email"] = announce(staff, event, user_ids, email=True, procs=procs, timeout=args.timeout)
    finally:
        stop_workers(procs)
        app.control.purge()
        import redis

        redis.Redis.from_url(args.broker).flushdb()  # checked empty at the start: only our keys

    a, b = results["in_app"], results["email"]
    rows += [
        (f"announce, in-app only: {a['n']:,} notifications", a["n"], a["notified"]),
        (f"announce + e-mail: {b['n']:,} notifications", b["n"], b["notified"]),
        (f"announce + e-mail: {b['deliveries']:,} deliveries sent", b["deliveries"], b["delivered"]),
    ]

    print()
    print(f"Announcement to {len(user_ids):,} subscribers   database: {database_label()}")
    print(
        f"Broker: {args.broker}   workers: {args.processes} processes x {args.concurrency} = {workers} task slots   "
        f"cores: {os.cpu_count()}"
    )
    print(
        f"event_announce() returned after {a['queued'] * 1000:.0f} ms (in-app run) and "
        f"{b['queued'] * 1000:.0f} ms (e-mail run): the fan-out is queued, the request does not wait for it"
    )
    table = []
    for label, count, seconds in rows:
        table.append([label, f"{count:,}", f"{seconds:.2f}", f"{count / seconds:,.0f}"])
    print_table(["measurement", "n", "seconds", "per second"], table)
    print()
    for label, result in (("in-app only", a), ("with e-mail", b)):
        verdict = "met" if result["notified"] <= TARGET_SECONDS else "MISSED"
        print(
            f"Target {len(user_ids):,} in-app notifications in <= {TARGET_SECONDS:.0f} s ({label}): "
            f"{result['notified']:.1f} s, {verdict}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
