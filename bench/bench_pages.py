"""Page benchmark: the notification inbox (HTML and API) under gunicorn, against /healthz
measured in the same run as the baseline.

It migrates the configured database (PostgreSQL when DATABASE_URL is set), loads the demo
data, gives the demo graduate N notifications, signs in by creating a session, starts
gunicorn on a free port of 127.0.0.1 and sends a bounded number of requests per endpoint
from a few threads. Figures: requests/s, median and 95th-percentile latency.

    .venv/bin/python bench/bench_pages.py [--requests 500] [--concurrency 8] [--workers 2]
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    ROOT,
    VENV_BIN,
    bench_environment,
    database_label,
    free_port,
    percentile,
    print_table,
    setup_django,
)

HOST = "127.0.0.1"
KEY_PREFIX = "bench-pages:"
REQUEST_TIMEOUT = 15
DEMO_EMAIL = "graduate@example.com"


def seed_notifications(user, count: int) -> None:
    from portal.models import Notification

    Notification.objects.filter(user=user, key__startswith=KEY_PREFIX).delete()
    Notification.objects.bulk_create(
        [
            Notification(
                user=user,
                kind="announcement",
                title=f"基准测试通知 {i}",
                body="洛阳青年人才服务平台基准测试消息。" * 4,
                link="/notifications/",
                key=f"{KEY_PREFIX}{i}",
            )
            for i in range(count)
        ],
        batch_size=1000,
    )


def session_cookie(user) -> str:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    gunicorn = VENV_BIN / "gunicorn"
    if not gunicorn.exists():
        sys.exit(f"{gunicorn} is missing: run `make bench` (it installs the requirements into .venv).")
    return subprocess.Popen(
        [
            str(gunicorn),
            "portal.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "60",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )


def get(port: int, path: str, cookie: str | None) -> tuple[int, float]:
    headers = {"Accept-Language": "zh-hans", "Host": f"{HOST}:{port}"}
    if cookie:
        headers["Cookie"] = cookie
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        status = response.status
    except OSError:
        status = 0
    finally:
        conn.close()
    return status, time.perf_counter() - started


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"gunicorn exited with code {proc.returncode} before it answered.")
        if get(port, "/healthz", None)[0] == 200:
            return
        time.sleep(0.3)
    sys.exit(f"gunicorn did not answer /healthz within {timeout:.0f} s.")


def measure(port: int, path: str, cookie: str | None, requests: int, concurrency: int) -> dict:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda _: get(port, path, cookie), range(min(20, requests))))  # warm-up
        started = time.perf_counter()
        results = list(pool.map(lambda _: get(port, path, cookie), range(requests)))
        elapsed = time.perf_counter() - started
    latencies = sorted(t for _, t in results)
    errors = sum(1 for status, _ in results if status != 200)
    return {
        "path": path,
        "rps": requests / elapsed,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="measured requests per endpoint")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--notifications", type=int, default=1000, help="notifications in the inbox")
    args = parser.parse_args()

    bench_environment()
    setup_django()
    from django.db import connection

    from portal.models import User

    user = User.objects.get(email=DEMO_EMAIL)
    seed_notifications(user, args.notifications)
    cookie = session_cookie(user)
    connection.close()

    port = free_port()
    proc = start_gunicorn(port, args.workers)
    try:
        wait_until_up(port, proc)
        # Check once that the cookie signs in (a redirect to the login page would be cheap).
        status, _ = get(port, "/api/v1/notifications/", cookie)
        if status != 200:
            sys.exit(f"/api/v1/notifications/ answered {status} with the session cookie.")
        results = [
            measure(port, "/healthz", None, args.requests, args.concurrency),
            measure(port, "/notifications/", cookie, args.requests, args.concurrency),
            measure(port, "/api/v1/notifications/", cookie, args.requests, args.concurrency),
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        from portal.models import Notification

        Notification.objects.filter(user=user, key__startswith=KEY_PREFIX).delete()

    print()
    print(
        f"Pages: gunicorn {args.workers} workers on {HOST}:{port}, {args.concurrency} client threads, "
        f"{args.requests} requests per endpoint, {args.notifications} notifications in the inbox"
    )
    print(f"Database: {database_label()}   settings: {os.environ['DJANGO_SETTINGS_MODULE']} (DEBUG off)")
    print_table(
        ["endpoint", "requests/s", "p50 ms", "p95 ms", "errors"],
        [[r["path"], f"{r['rps']:.0f}", f"{r['p50']:.1f}", f"{r['p95']:.1f}", str(r["errors"])] for r in results],
    )
    baseline = results[0]["rps"]
    for r in results[1:]:
        print(f"{r['path']}: {r['rps'] / baseline:.0%} of the /healthz baseline throughput")
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
