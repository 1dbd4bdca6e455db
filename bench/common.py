"""What the benchmarks share: the project on sys.path, the configured database created and
migrated, demo data loaded, free loopback ports, a table printer, and for the worker benchmarks
(announce, checks) a dedicated database, a broker check and celery workers. Benchmarks only ever
talk to 127.0.0.1."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def bench_environment() -> None:
    """Development settings with production-like runtime behaviour: no DEBUG (which keeps
    every query in memory) and persistent database connections."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.development")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    # The production shape: one cache shared by every gunicorn worker (Redis).
    os.environ.setdefault("CACHE_URL", "redis://127.0.0.1:6379/3")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    os.environ.setdefault("SMS_BACKEND", "portal.sms.LocmemSmsBackend")
    # One log line per request or task would measure the terminal, not the portal.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("CELERY_TRACE_LOG_LEVEL", "WARNING")
    # whitenoise warns about a missing static root; the benchmarks fetch no static files.
    static_root = ROOT / "var" / "bench-static"
    static_root.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_STATIC_ROOT", str(static_root))


def database_label() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return "SQLite (db.sqlite3; set DATABASE_URL=postgres://... for PostgreSQL)"
    parts = urlsplit(url)
    if not parts.hostname:
        return url
    return f"{parts.scheme}://{parts.hostname}:{parts.port or 5432}{parts.path}"


def is_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://", "pgsql://"))


def ensure_postgres_database() -> None:
    """Create the database named in DATABASE_URL when it does not exist yet."""
    if not is_postgres():
        return
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def setup_django() -> None:
    """django.setup(), then migrate and load the demo data (both idempotent)."""
    import io

    import django
    from django.core.management import call_command

    ensure_postgres_database()
    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    call_command("seed_demo", stdout=io.StringIO())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=True)]

    def fmt(cells: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print(fmt(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(fmt(row))


# --- the worker benchmarks (announce, checks): a dedicated database, a Redis broker, workers ---


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


def start_workers(processes: int, concurrency: int, name: str) -> list[subprocess.Popen]:
    """Celery worker processes (own session each) named `<name>-<run>-<i>@host`."""
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
                f"{name}-{run}-{i}@%h",
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


def noop_tasks(n: int, broker: str, procs, timeout: float, name: str) -> float:
    """The baseline: ``n`` no-op tasks (bench/noop_task.py) through the broker and the workers."""
    import redis

    from portal.celery import app

    client = redis.Redis.from_url(broker)
    counter = f"bench:{name}:noop:{uuid.uuid4().hex}"
    client.set(counter, 0)
    started = time.perf_counter()
    for _ in range(n):
        app.send_task("bench.noop", args=[counter])
    wait_for(lambda: int(client.get(counter) or 0) >= n, timeout, "the no-op tasks", procs)
    seconds = time.perf_counter() - started
    client.delete(counter)
    return seconds


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def worker_bench_environment(script: str, broker: str, database: str) -> None:
    """Refuse what the worker benchmarks cannot or must not use (no PostgreSQL, a broker or a
    database off the loopback, a busy broker), then point this process and the workers at the
    dedicated database ``database`` and the broker, tasks queued rather than run eagerly."""
    if not is_postgres():
        sys.exit(
            f"{script} needs PostgreSQL (the workers share the database): "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal"
        )
    if urlsplit(broker).hostname not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: --broker must be a loopback address.")
    if urlsplit(os.environ["DATABASE_URL"]).hostname not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: DATABASE_URL must point at a loopback address.")
    problem = redis_problem(broker)
    if problem:
        sys.exit(f"{script}: {problem}")

    os.environ["DATABASE_URL"] = dedicated_database_url(os.environ["DATABASE_URL"], database)
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"
    bench_environment()
