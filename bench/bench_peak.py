"""Peak benchmark: an event's registration opening and a subsidy window opening, ramping to a
few hundred concurrent clients on gunicorn + PostgreSQL + Redis + a real celery worker, against
a baseline view measured with the same client at the same concurrency in the same run (issue 8).

What it does, bounded and on 127.0.0.1 only:

1. On the server of DATABASE_URL, drops and re-creates a database of its own (``portal_peak``
   unless ``--database`` says otherwise) and migrates it. Seeds ``--users`` graduates with
   complete profiles (consent, e-mail and SMS notifications off so the figures measure the
   portal, not mail) and a signed-in session each, written straight into the session table
   (no sign-in per client). Opens the rent-subsidy window today.
2. Uses one Redis database (``--redis``, default db 10; it must be empty and is emptied
   afterwards) as the shared cache (sessions of rate limits, the search cache) and as the
   Celery broker, and starts one ``celery worker`` for the eligibility checks.
3. Starts gunicorn with threaded workers on the bench settings (``--workers`` processes of
   ``--threads`` threads; see the README for why 2 x 16 on 2 cores) with the load shedding of
   ``portal/loadshed.py`` (``--max-in-flight``, ``--queue-timeout``; 0 switches it off).
4. For each step of ``--ramp`` (50, 100, 200, 400 clients), for ``--duration`` seconds each,
   all clients at once (asyncio + aiohttp, one connection and one cookie jar per client, as a
   browser):
   - baseline: ``GET /bench/baseline/`` (one simple query, a tiny template: bench/urls.py);
   - event opening: a new event opens registration with half as many places as clients; each
     client loads the event page, sends the registration form with its CSRF token, follows the
     redirect to "My events", then does the same for the step's next event, and so on;
   - subsidy window: each client loads the rent subsidy page, the application form, sends it
     (one month each time) and follows the redirect to "My subsidies".
   A 503 is followed as a browser user would: wait ``Retry-After`` and send it again.
5. Prints per step requests/s, completed registrations or applications per second, p50, p95,
   p99 latency, answers by class (2xx, 3xx, 4xx, 429, 503, other 5xx, timeouts, connection
   errors) and the ratios to the baseline; the statements PostgreSQL was running most often
   while the scenarios ran (sampled from pg_stat_activity) and the queries of one request of
   each page; then checks the database: every event has exactly its capacity confirmed (or
   everyone, when fewer came) and the rest waitlisted in arrival order, and once the worker has
   drained, every submitted application has exactly one stored eligibility check.

gunicorn and the worker run in sessions of their own and are stopped on every exit, Ctrl-C
included.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_peak.py
    ... [--ramp 50,100,200,400] [--duration 10] [--workers 2] [--threads 16]
    ... [--max-in-flight 6] [--queue-timeout 0.5] [--redis redis://127.0.0.1:6379/10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    LOOPBACK,
    ROOT,
    VENV_BIN,
    bench_environment,
    dedicated_database_url,
    free_port,
    is_postgres,
    percentile,
    print_table,
    redis_problem,
    start_workers,
    stop_workers,
)

HOST = "127.0.0.1"
PREFIX = "bench-peak-"
REQUEST_TIMEOUT = 30.0  # what a browser behind a proxy waits at most; longer counts as a timeout
EVENTS_PER_STEP = 60
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PROGRAMME = "rent-subsidy"
CLASSES = ["2xx", "3xx", "4xx", "429", "503", "5xx", "timeout", "error", "refused"]


# --- the database -------------------------------------------------------------------------------


def fresh_database(url: str) -> None:
    """Drop and create the bench database, so every run starts from the same state."""
    import psycopg2
    from psycopg2 import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    conn = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname,
        port=parts.port or 5432,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def seed(users: int) -> list[tuple[int, str]]:
    """Graduates with complete profiles and a session each: (user id, session key)."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from portal.constants import EducationLevel, Role
    from portal.models import ApplicantProfile, Consent, District, NotificationPreference, User

    today = timezone.localdate()
    districts = list(District.objects.order_by("pk"))
    User.objects.bulk_create(
        [
            User(
                username=f"{PREFIX}{i:04d}",
                email=f"{PREFIX}{i:04d}@bench.invalid",
                password="!bench",  # unusable: the clients come with a session, never a password
                role=Role.GRADUATE,
                language="zh-hans",
            )
            for i in range(users)
        ],
        batch_size=1000,
    )
    people = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    ApplicantProfile.objects.bulk_create(
        [
            ApplicantProfile(
                user=u,
                real_name=f"基准{i}",
                id_number_encrypted="bench",  # only its presence is read by the checks
                phone=f"139{i:08d}",
                birth_date=dt.date(2000, 1, 1) + dt.timedelta(days=i),
                education_level=EducationLevel.BACHELOR,
                school="河南科技大学",
                major="机械工程",
                graduation_date=today - dt.timedelta(days=60 + i % 300),
                hukou_province="河南省",
                hukou_city="郑州市",
                district=districts[i % len(districts)],
                works_in_luoyang=True,
            )
            for i, u in enumerate(people)
        ],
        batch_size=1000,
    )
    Consent.objects.bulk_create([Consent(user=u, version=settings.PORTAL_CONSENT_VERSION) for u in people])
    NotificationPreference.objects.bulk_create([NotificationPreference(user=u, email=False, sms=False) for u in people])
    store = SessionStore()
    expires = timezone.now() + dt.timedelta(days=1)
    sessions = [
        Session(
            session_key=secrets.token_hex(16),
            session_data=store.encode(
                {
                    "_auth_user_id": str(u.pk),
                    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                    "_auth_user_hash": u.get_session_auth_hash(),
                }
            ),
            expire_date=expires,
        )
        for u in people
    ]
    Session.objects.bulk_create(sessions, batch_size=1000)
    return [(u.pk, s.session_key) for u, s in zip(people, sessions, strict=True)]


def open_event_registrations(clients: int, label: str) -> list[int]:
    """The step's events: published, registration open from now, half as many places as
    clients (so each fills and has a waiting list)."""
    from django.utils import timezone

    from events.constants import EventKind, EventStatus
    from events.models import Event
    from portal.models import District

    now = timezone.now()
    starts = now + dt.timedelta(days=14)
    district = District.objects.get(code="luolong")
    events = Event.objects.bulk_create(
        [
            Event(
                kind=EventKind.FORUM,
                title=f"青年人才交流会（{label} #{n + 1}）",
                description="峰值基准测试：报名开放。",
                district=district,
                place="洛阳市洛龙区开元大道 200 号",
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=3),
                capacity=max(1, clients // 2),
                registration_opens=now - dt.timedelta(seconds=1),
                registration_closes=starts - dt.timedelta(hours=2),
                status=EventStatus.PUBLISHED,
            )
            for n in range(EVENTS_PER_STEP)
        ]
    )
    return [e.pk for e in events]


def open_subsidy_window() -> None:
    from django.utils import timezone

    from subsidies.models import Programme

    Programme.objects.filter(code=PROGRAMME).update(opens_on=timezone.localdate(), closes_on=None, active=True)


# --- processes ----------------------------------------------------------------------------------


def start_gunicorn(port: int, workers: int, threads: int) -> subprocess.Popen:
    gunicorn = VENV_BIN / "gunicorn"
    if not gunicorn.exists():
        sys.exit(f"{gunicorn} is missing: run `make bench-peak` (it installs the requirements into .venv).")
    return subprocess.Popen(
        [
            str(gunicorn),
            "portal.wsgi:application",
            "--worker-class",
            "gthread",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"{HOST}:{port}",
            "--backlog",
            "2048",
            "--keep-alive",
            "5",
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        start_new_session=True,
    )


def stop_process(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    # The main process only: gunicorn's master and celery's worker stop their children
    # themselves (celery finishes the task in hand first); the group is killed only if that
    # takes too long.
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_until_up(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {proc.returncode} before it answered.")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s.")


# --- what PostgreSQL is busy with -------------------------------------------------------------


def normalise(sql_text: str) -> str:
    text = re.sub(r"'(?:[^']|'')*'", "?", sql_text)
    text = re.sub(r"\b\d+\b", "?", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"(\?, )+\?", "?…", text)
    return text


class Sampler(threading.Thread):
    """Every 50 ms, the statements the bench database's sessions are running (and what
    they wait for), counted per scenario: where the time goes at the peak."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url = url
        self.scenario = ""
        self.samples: dict[str, Counter] = defaultdict(Counter)
        self.ticks: Counter = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        import psycopg2

        parts = urlsplit(self.url)
        conn = psycopg2.connect(
            dbname=parts.path.lstrip("/"), user=parts.username or "postgres", host=parts.hostname, port=parts.port
        )
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not self.stop.wait(0.05):
                    scenario = self.scenario
                    if not scenario:
                        continue
                    cur.execute(
                        "SELECT query, coalesce(wait_event_type, 'CPU') FROM pg_stat_activity "
                        "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
                    )
                    self.ticks[scenario] += 1
                    for query, wait in cur.fetchall():
                        self.samples[scenario][(normalise(query)[:150], wait)] += 1
        finally:
            conn.close()


# --- the clients ---------------------------------------------------------------------------------


class Recorder:
    """Latencies and answers of one phase."""

    def __init__(self):
        self.latencies: list[float] = []
        self.post_latencies: list[float] = []
        self.classes: Counter = Counter()
        self.flows = 0
        self.gave_up = 0
        self.shed_latencies: list[float] = []
        self.errors: Counter = Counter()  # connection errors by request method and kind

    def add(self, kind: str, seconds: float, *, post: bool) -> None:
        self.classes[kind] += 1
        self.latencies.append(seconds)
        if post:
            self.post_latencies.append(seconds)
        if kind == "503":
            self.shed_latencies.append(seconds)


def status_class(status: int) -> str:
    if status in (429, 503):
        return str(status)
    return f"{status // 100}xx"


class Client:
    """One browser: its own connection and cookie jar (the session cookie, then CSRF)."""

    def __init__(self, base: str, user_id: int, session_key: str):
        import aiohttp
        from yarl import URL

        self.base = base
        self.user_id = user_id
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        jar.update_cookies({"sessionid": session_key}, URL(base))
        self.http = aiohttp.ClientSession(
            # Closed before gunicorn's keep-alive (5 s) closes it, as browsers avoid reusing a
            # connection the server may be closing.
            connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=3),
            cookie_jar=jar,
            headers={"Accept-Language": "zh-hans", "Accept": "text/html"},
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
        )
        self.months = 0  # the next month this graduate claims rent subsidy for

    async def close(self) -> None:
        await self.http.close()

    async def call(self, rec: Recorder, method: str, path: str, deadline: float, data=None):
        """One request, sent again after Retry-After while it is answered 503 (until the
        phase ends). Returns (status, location, body) or None."""
        import aiohttp

        while True:
            started = time.perf_counter()
            try:
                async with self.http.request(method, self.base + path, data=data, allow_redirects=False) as resp:
                    body = await resp.text()
                    status, location = resp.status, resp.headers.get("Location", "")
                    retry_after = resp.headers.get("Retry-After", "1")
            except TimeoutError:
                rec.add("timeout", time.perf_counter() - started, post=method == "POST")
                return None
            except aiohttp.ClientError as exc:
                rec.add("error", time.perf_counter() - started, post=method == "POST")
                rec.errors[f"{method} {type(exc).__name__}"] += 1
                return None
            rec.add(status_class(status), time.perf_counter() - started, post=method == "POST")
            if status != 503:
                return status, location, body
            wait = float(retry_after) if retry_after.isdigit() else 1.0
            if time.perf_counter() + wait >= deadline:
                rec.gave_up += 1
                return None
            await asyncio.sleep(wait)


async def baseline_flow(client: Client, rec: Recorder, deadline: float, state) -> bool:
    answer = await client.call(rec, "GET", "/bench/baseline/", deadline)
    return bool(answer and answer[0] == 200)


async def event_flow(client: Client, rec: Recorder, deadline: float, state) -> bool:
    """Open the event page, register with the page's CSRF token, land on "My events"."""
    events, index, successes = state["events"], state["next"], state["successes"]
    i = index[client.user_id]
    if i >= len(events):
        return False
    index[client.user_id] = i + 1
    pk = events[i]
    page = await client.call(rec, "GET", f"/events/{pk}/", deadline)
    if not page or page[0] != 200:
        return False
    token = CSRF_INPUT.search(page[2])
    if not token:
        rec.classes["no form"] += 1
        return False
    sent = await client.call(rec, "POST", f"/events/{pk}/register/", deadline, {"csrfmiddlewaretoken": token[1]})
    if not sent or sent[0] != 302:
        return False
    if not sent[1].endswith("/events/mine/"):  # refused: back to the event page with a message
        rec.classes["refused"] += 1
        return False
    successes[pk].add(client.user_id)
    mine = await client.call(rec, "GET", "/events/mine/", deadline)
    return bool(mine and mine[0] == 200)


async def subsidy_flow(client: Client, rec: Recorder, deadline: float, state) -> bool:
    """Open the programme page, the application form, apply for the next month, land on
    "My subsidies"."""
    page = await client.call(rec, "GET", f"/subsidies/{PROGRAMME}/", deadline)
    if not page or page[0] != 200:
        return False
    form = await client.call(rec, "GET", f"/subsidies/{PROGRAMME}/apply/", deadline)
    if not form or form[0] != 200:
        return False
    token = CSRF_INPUT.search(form[2])
    if not token:
        rec.classes["no form"] += 1
        return False
    today = dt.date.today()
    index = today.year * 12 + today.month - 1 + client.months
    client.months += 1
    month = f"{index // 12}-{index % 12 + 1:02d}"
    data = {"csrfmiddlewaretoken": token[1], "period_start": month, "months": "1"}
    sent = await client.call(rec, "POST", f"/subsidies/{PROGRAMME}/apply/", deadline, data)
    if not sent or sent[0] != 302:
        if sent and sent[0] == 200:
            rec.classes["refused"] += 1
        return False
    state["applications"] += 1
    mine = await client.call(rec, "GET", "/subsidies/mine/", deadline)
    return bool(mine and mine[0] == 200)


async def run_phase(clients: list[Client], flow, duration: float, state) -> tuple[Recorder, float]:
    rec = Recorder()
    started = time.perf_counter()
    deadline = started + duration

    async def loop(client: Client) -> None:
        while time.perf_counter() < deadline:
            if await flow(client, rec, deadline, state):
                rec.flows += 1
            elif flow is event_flow and state["next"][client.user_id] >= len(state["events"]):
                return

    await asyncio.gather(*(loop(c) for c in clients))
    return rec, time.perf_counter() - started


def summary(label: str, rec: Recorder, seconds: float) -> dict:
    lat = sorted(rec.latencies)
    post = sorted(rec.post_latencies)
    shed = sorted(rec.shed_latencies)
    return {
        "label": label,
        "requests": len(lat),
        "rps": len(lat) / seconds,
        "flows": rec.flows / seconds,
        "p50": percentile(lat, 0.50) * 1000,
        "p95": percentile(lat, 0.95) * 1000,
        "p99": percentile(lat, 0.99) * 1000,
        "post_p95": percentile(post, 0.95) * 1000 if post else float("nan"),
        "shed_p99": percentile(shed, 0.99) * 1000 if shed else float("nan"),
        "classes": rec.classes,
        "gave_up": rec.gave_up,
        "errors": rec.errors,
    }


def print_results(title: str, rows: list[dict], baselines: dict[int, dict] | None) -> None:
    print()
    print(title)
    headers = ["clients", "req/s", "done/s", "p50 ms", "p95 ms", "p99 ms", "POST p95", "503 p99", *CLASSES, "gave up"]
    table = []
    for r in rows:
        c = r["classes"]
        table.append(
            [
                r["label"],
                f"{r['rps']:.0f}",
                f"{r['flows']:.1f}",
                f"{r['p50']:.0f}",
                f"{r['p95']:.0f}",
                f"{r['p99']:.0f}",
                f"{r['post_p95']:.0f}",
                f"{r['shed_p99']:.0f}",
                *[str(c.get(k, 0)) for k in CLASSES],
                str(r["gave_up"]),
            ]
        )
    print_table(headers, table)
    for r in rows:
        if r["errors"]:
            print(
                f"  {r['label']:>4} clients, connection errors: "
                + ", ".join(f"{k} {n}" for k, n in r["errors"].items())
            )
    if baselines:
        for r in rows:
            b = baselines[int(r["label"])]
            print(
                f"  {r['label']:>4} clients: throughput {r['rps'] / b['rps']:.2f} x baseline requests/s, "
                f"p95 {r['p95'] / b['p95']:.1f} x, p99 {r['p99'] / b['p99']:.1f} x the baseline's"
            )


async def drive(base: str, people, ramp: list[int], duration: float, sampler: Sampler) -> dict:
    from asgiref.sync import sync_to_async

    results: dict[str, list[dict]] = {"baseline": [], "events": [], "subsidies": []}
    event_ids: dict[int, list[int]] = {}
    successes: dict[int, set[int]] = defaultdict(set)
    applications = 0
    for clients_n in ramp:
        clients = [Client(base, uid, key) for uid, key in people[:clients_n]]
        try:
            sampler.scenario = ""
            rec, seconds = await run_phase(clients, baseline_flow, duration, {})
            results["baseline"].append(summary(str(clients_n), rec, seconds))

            events = await sync_to_async(open_event_registrations)(clients_n, f"{clients_n} 人")
            event_ids[clients_n] = events
            state = {"events": events, "next": defaultdict(int), "successes": successes}
            sampler.scenario = "event opening"
            rec, seconds = await run_phase(clients, event_flow, duration, state)
            results["events"].append(summary(str(clients_n), rec, seconds))

            state = {"applications": 0}
            sampler.scenario = "subsidy window"
            rec, seconds = await run_phase(clients, subsidy_flow, duration, state)
            sampler.scenario = ""
            applications += state["applications"]
            results["subsidies"].append(summary(str(clients_n), rec, seconds))
            print(
                f"  {clients_n:>4} clients: baseline {results['baseline'][-1]['rps']:.0f} req/s, "
                f"event opening {results['events'][-1]['rps']:.0f} req/s, "
                f"subsidy window {results['subsidies'][-1]['rps']:.0f} req/s",
                flush=True,
            )
        finally:
            await asyncio.gather(*(c.close() for c in clients))
    return {"results": results, "event_ids": event_ids, "successes": successes, "applications": applications}


# --- afterwards: the database tells whether it was right ------------------------------------------


def check_events(event_ids: dict[int, list[int]], successes: dict[int, set[int]]) -> list[str]:
    from django.db.models import Count

    from events.constants import RegistrationStatus as R
    from events.models import Event, Registration

    problems = []
    used = checked = 0
    for ids in event_ids.values():
        for event in Event.objects.filter(pk__in=ids):
            regs = list(Registration.objects.filter(event=event).order_by("sequence").values_list("user_id", "status"))
            if not regs and not successes.get(event.pk):
                continue
            used += 1
            statuses = Counter(s for _, s in regs)
            expected_confirmed = min(event.capacity, len(regs))
            if statuses[R.CONFIRMED] != expected_confirmed:
                problems.append(f"event {event.pk}: {statuses[R.CONFIRMED]} confirmed, expected {expected_confirmed}")
            if statuses[R.WAITLISTED] != len(regs) - expected_confirmed:
                problems.append(f"event {event.pk}: {statuses[R.WAITLISTED]} waitlisted of {len(regs)}")
            order = [s for _, s in regs]
            if order != sorted(order, key=lambda s: s != R.CONFIRMED):
                problems.append(f"event {event.pk}: a waitlisted registration arrived before a confirmed one")
            if {u for u, _ in regs} != successes.get(event.pk, set()) or len(regs) != len({u for u, _ in regs}):
                problems.append(
                    f"event {event.pk}: {len(regs)} registrations in the database, "
                    f"{len(successes.get(event.pk, ()))} answered as registered"
                )
            checked += 1
    dupes = (
        Registration.objects.values("event_id", "user_id").annotate(n=Count("id")).filter(n__gt=1).order_by().count()
    )
    if dupes:
        problems.append(f"{dupes} people registered twice for one event")
    print(f"Events: {checked} of {used} opened events checked: capacity confirmed, the rest waitlisted in order.")
    return problems


def check_subsidies(applications: int, worker_procs, timeout: float) -> list[str]:
    from django.db.models import Count

    from subsidies.models import EligibilityCheck, SubsidyApplication

    mine = SubsidyApplication.objects.filter(applicant__username__startswith=PREFIX)
    started = time.perf_counter()
    while True:
        unchecked = mine.filter(checks__isnull=True).count()
        if not unchecked:
            break
        if any(p.poll() is not None for p in worker_procs):
            return ["the celery worker exited before the checks were done"]
        if time.perf_counter() - started > timeout:
            return [f"{unchecked} applications still had no check after {timeout:.0f} s"]
        time.sleep(0.5)
    problems = []
    total = mine.count()
    drafts = mine.filter(submitted_at__isnull=True).count()
    twice = mine.annotate(n=Count("checks")).filter(n__gt=1).count()
    dupes = mine.values("programme_id", "dedupe_key").annotate(n=Count("id")).filter(n__gt=1).order_by().count()
    checks = EligibilityCheck.objects.filter(application__in=mine).count()
    if total != applications:
        problems.append(f"{total} applications in the database, {applications} answered as sent")
    if drafts:
        problems.append(f"{drafts} applications were never submitted")
    if twice or checks != total:
        problems.append(f"{twice} applications with more than one check ({checks} checks for {total})")
    if dupes:
        problems.append(f"{dupes} duplicate applications for one person and month")
    print(
        f"Subsidies: {total} applications submitted, {checks} eligibility checks stored "
        f"(worker drained {time.perf_counter() - started:.1f} s after the last step)."
    )
    return problems


def page_queries(people, event_id: int) -> list[list[str]]:
    """The queries of one request of each page of the scenarios, in this process."""
    from django.db import connection
    from django.test import Client as TestClient
    from django.test.utils import CaptureQueriesContext

    from portal.models import User

    user = User.objects.get(pk=people[-1][0])
    client = TestClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user)
    today = dt.date.today()
    month = f"{today.year + 10}-{today.month:02d}"  # far from the months the clients claimed
    pages = [
        ("GET", f"/events/{event_id}/", None),
        ("POST", f"/events/{event_id}/register/", {}),
        ("GET", "/events/mine/", None),
        ("GET", f"/subsidies/{PROGRAMME}/", None),
        ("GET", f"/subsidies/{PROGRAMME}/apply/", None),
        ("POST", f"/subsidies/{PROGRAMME}/apply/", {"period_start": month, "months": "1"}),
        ("GET", "/subsidies/mine/", None),
        ("GET", "/bench/baseline/", None),
    ]
    rows = []
    for method, path, data in pages:
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(path, data) if method == "POST" else client.get(path)
        repeated = Counter(normalise(q["sql"])[:60] for q in ctx.captured_queries).most_common(1)
        top = f"{repeated[0][1]} x {repeated[0][0]}" if repeated and repeated[0][1] > 1 else "-"
        rows.append([f"{method} {path}", str(response.status_code), str(len(ctx.captured_queries)), top])
    return rows


# --- main -------------------------------------------------------------------------------------------


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ramp", default="50,100,200,400", help="concurrent clients of each step")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of each phase of a step")
    parser.add_argument("--users", type=int, default=0, help="graduates seeded (default: the largest step)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=16, help="threads of each gunicorn worker")
    parser.add_argument("--max-in-flight", type=int, default=6, help="LOADSHED_MAX_IN_FLIGHT (0: off)")
    parser.add_argument("--queue-timeout", type=float, default=0.5, help="LOADSHED_QUEUE_TIMEOUT, seconds")
    parser.add_argument("--max-waiting", type=int, default=6, help="LOADSHED_MAX_WAITING")
    parser.add_argument("--lock-timeout", type=float, default=3.0, help="LOADSHED_LOCK_TIMEOUT, seconds (0: off)")
    parser.add_argument("--redis", default=os.environ.get("BENCH_PEAK_REDIS_URL", "redis://127.0.0.1:6379/10"))
    parser.add_argument("--database", default="portal_peak", help="database name on the DATABASE_URL server")
    parser.add_argument("--drain-timeout", type=float, default=120.0, help="seconds to wait for the checks")
    args = parser.parse_args()
    ramp = [int(n) for n in args.ramp.split(",") if n.strip()]

    if not is_postgres():
        sys.exit("bench_peak.py needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal")
    if urlsplit(os.environ["DATABASE_URL"]).hostname not in LOOPBACK or urlsplit(args.redis).hostname not in LOOPBACK:
        sys.exit("The benchmark only talks to 127.0.0.1: DATABASE_URL and --redis must be loopback addresses.")
    problem = redis_problem(args.redis)
    if problem:
        sys.exit(f"bench_peak.py: {problem}")
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        sys.exit("aiohttp is missing: run `make bench-peak` (it installs requirements-dev.txt into .venv).")

    url = dedicated_database_url(os.environ["DATABASE_URL"], args.database)
    os.environ.update(
        {
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "CACHE_URL": args.redis,
            "CELERY_BROKER_URL": args.redis,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "LOADSHED_MAX_IN_FLIGHT": str(args.max_in_flight),
            "LOADSHED_QUEUE_TIMEOUT": str(args.queue_timeout),
            "LOADSHED_MAX_WAITING": str(args.max_waiting),
            "LOADSHED_LOCK_TIMEOUT": str(args.lock_timeout),
        }
    )
    bench_environment()

    gunicorn = None
    workers: list[subprocess.Popen] = []
    sampler = None
    # SIGTERM (e.g. from make being stopped) ends the run through the same clean-up as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    finished = False
    try:
        started = time.perf_counter()
        fresh_database(url)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        people = seed(args.users or max(ramp))
        open_subsidy_window()
        from django.db import connection

        connection.close()
        print(
            f"Set-up: fresh {args.database}, {len(people)} graduates with sessions ({time.perf_counter() - started:.1f} s)"
        )

        workers = start_workers(1, 2, "peak")
        port = free_port()
        gunicorn = start_gunicorn(port, args.workers, args.threads)
        wait_until_up(port, gunicorn)
        sampler = Sampler(url)
        sampler.start()
        print(
            f"gunicorn gthread {args.workers} x {args.threads} threads on {HOST}:{port}; load shedding: "
            + (
                f"{args.max_in_flight} requests in flight per process, at most {args.max_waiting} waiting "
                f"{args.queue_timeout} s, "
                f"lock_timeout {args.lock_timeout} s"
                if args.max_in_flight
                else f"off (lock_timeout {args.lock_timeout} s)"
            )
            + f"; 1 celery worker x 2; {args.duration:.0f} s per phase"
        )
        outcome = asyncio.run(drive(f"http://{HOST}:{port}", people, ramp, args.duration, sampler))
        finished = True
    except KeyboardInterrupt:
        print("\nInterrupted: stopping gunicorn and the worker.", file=sys.stderr)
        return 130
    finally:
        if sampler is not None:
            sampler.stop.set()
        stop_process(gunicorn)
        if not finished:  # else the worker still has checks to drain
            stop_workers(workers)

    try:
        from django.db import connection

        connection.close()
        results = outcome["results"]
        baselines = {int(r["label"]): r for r in results["baseline"]}
        print_results("Baseline: GET /bench/baseline/ (one query, a tiny template)", results["baseline"], None)
        print_results(
            "Event opening: event page, registration (POST with CSRF), My events", results["events"], baselines
        )
        print_results(
            "Subsidy window: programme page, application form, application (POST), My subsidies",
            results["subsidies"],
            baselines,
        )
        for scenario in ("event opening", "subsidy window"):
            counts = sampler.samples[scenario]
            ticks = max(1, sampler.ticks[scenario])
            print()
            print(f"What PostgreSQL was running during the {scenario} ({ticks} samples, 50 ms apart):")
            print_table(
                ["sessions/sample", "waiting on", "statement"],
                [[f"{n / ticks:.2f}", wait, query] for (query, wait), n in counts.most_common(10)],
            )
        print()
        problems = check_events(outcome["event_ids"], outcome["successes"])
        problems += check_subsidies(outcome["applications"], workers, args.drain_timeout)
        print()
        print("Queries of one request of each page (in-process, after the checks):")
        first_event = next(iter(outcome["event_ids"].values()))[-1]
        print_table(["request", "status", "queries", "most repeated"], page_queries(people, first_event))
    finally:
        stop_workers(workers)
        import redis

        redis.Redis.from_url(args.redis).flushdb()
    server_errors = sum(r["classes"].get("5xx", 0) for rs in results.values() for r in rs)
    timeouts = sum(r["classes"].get("timeout", 0) for rs in results.values() for r in rs)
    errors = sum(r["classes"].get("error", 0) for rs in results.values() for r in rs)
    if server_errors or timeouts or errors:
        problems.append(
            f"{server_errors} server errors (5xx other than 503), {timeouts} timeouts, {errors} connection errors"
        )
    for p in problems:
        print(f"PROBLEM: {p}")
    if not problems:
        print("No 5xx, no timeouts, no connection errors; every event and every application checked out.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
