"""What both benchmarks share: the project on sys.path, the configured database created and
migrated, demo data loaded, free loopback ports, and a table printer. Benchmarks only ever
talk to 127.0.0.1."""

from __future__ import annotations

import os
import socket
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit

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
