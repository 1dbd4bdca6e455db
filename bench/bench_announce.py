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
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    database_label,
    noop_tasks,
    print_table,
    setup_django,
    start_workers,
    stop_workers,
    wait_for,
    worker_bench_environment,
)

USER_PREFIX = "bench-announce-"
STAFF_USERNAME = "bench-announce-organiser"
EVENT_TITLE = "基准测试：洛龙区青年人才发展论坛"
TARGET_SECONDS = 30.0


# --- set-up ------------------------------------------------------------------------------------


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


def organiser_and_event(district, label: str):
    """City staff and a new published forum in the district, made through the services: an
    event is announced once, so each measured announcement gets an event of its own."""
    import datetime as dt

    from django.utils import timezone

    from events import services
    from events.constants import EventKind
    from portal.constants import Role
    from portal.models import User

    staff, _ = User.objects.get_or_create(
        username=STAFF_USERNAME, defaults={"role": Role.CITY_STAFF, "is_staff": True, "password": "!bench"}
    )
    now = timezone.now().replace(second=0, microsecond=0)
    starts = now + dt.timedelta(days=30)
    event = services.event_create(
        actor=staff,
        data={
            "kind": EventKind.FORUM,
            "title": f"{EVENT_TITLE}（{label}）",
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

    worker_bench_environment("bench_announce.py", args.broker, args.database)
    started = time.perf_counter()
    setup_django()

    from portal.celery import app
    from portal.models import District

    district = District.objects.get(code="luolong")
    user_ids = subscribers(args.subscribers, district)
    staff, event = organiser_and_event(district, "in-app")
    _staff, email_event = organiser_and_event(district, "e-mail")
    print(
        f"Set-up: {len(user_ids):,} subscribers of {district}, event #{event.pk} ({time.perf_counter() - started:.1f} s)"
    )

    rows: list[tuple[str, int, float]] = []
    rows.append(("in-process: bare Notification bulk_create (baseline)", len(user_ids), bare_bulk_create(user_ids)))
    workers = args.processes * args.concurrency
    app.control.purge()
    procs = start_workers(args.processes, args.concurrency, "bench-announce")
    results = {}
    try:
        wait_for(lambda: len(app.control.ping(timeout=0.5)) >= args.processes, 60, "the workers to start", procs)
        rows.append(
            (
                f"workers {args.processes}x{args.concurrency}: no-op tasks (baseline)",
                len(user_ids),
                noop_tasks(len(user_ids), args.broker, procs, args.timeout, "announce"),
            )
        )
        results["in_app"] = announce(staff, event, user_ids, email=False, procs=procs, timeout=args.timeout)
        results["email"] = announce(staff, email_event, user_ids, email=True, procs=procs, timeout=args.timeout)
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
