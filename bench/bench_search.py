"""Search benchmark: the jobs search page and the search API under gunicorn, against a baseline
view measured in the same run that does one simple query and renders a tiny template
(bench/urls.py; /healthz is measured too, for reading).

It needs PostgreSQL (the trigram index and the planner are what is measured): DATABASE_URL
names a database of its own, created and migrated when missing. It seeds 10,000 published
positions and 100,000 applications there (bulk inserts, idempotent: a second run adds
nothing), starts gunicorn with 2 x cores + 1 workers on a free port of 127.0.0.1, and drives
20 concurrent clients (threads with keep-alive ``http.client`` connections) at each endpoint
for a fixed time: the baseline, then /jobs/ and /api/v1/positions/ with a mix of Chinese and
English words, filters, sorts and pages. It prints requests/s, p50, p95, p99 and errors for
each, and the search/baseline ratios against the targets (throughput >= 0.5 x baseline,
p95 <= 3 x baseline at 20 clients).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench .venv/bin/python bench/bench_search.py
    ... [--duration 20] [--clients 20] [--workers N] [--explain]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_pages import start_gunicorn, wait_until_up  # noqa: E402
from bench.common import (  # noqa: E402
    bench_environment,
    database_label,
    free_port,
    is_postgres,
    percentile,
    print_table,
    setup_django,
)

HOST = "127.0.0.1"
REQUEST_TIMEOUT = 30
POSITIONS = 10_000
APPLICATIONS = 100_000
ORGANISATIONS = 200
GRADUATES = 2_000
BASES = 20
# Bench rows are recognisable by their credit codes and e-mail addresses, so seeding again
# finds them and the demo data is never touched.
CREDIT_PREFIX = "914103BENCH"
EMAIL_DOMAIN = "bench.example.invalid"
THROUGHPUT_TARGET = 0.5
P95_TARGET = 3.0

FIELDS = [
    ("轴承", "bearings", "Bearing"),
    ("精密轴承工艺", "bearings", "Bearing process"),
    ("机械设计", "equipment", "Mechanical design"),
    ("数控加工", "equipment", "CNC machining"),
    ("数据分析", "big_data", "Data analysis"),
    ("大数据平台", "big_data", "Big data platform"),
    ("软件开发", "big_data", "Software development"),
    ("嵌入式软件", "robots", "Embedded software"),
    ("机器人调试", "robots", "Robot commissioning"),
    ("电气自动化", "equipment", "Electrical automation"),
    ("新材料研发", "materials", "New materials R&D"),
    ("耐火材料", "materials", "Refractory materials"),
    ("石油化工工艺", "petrochemicals", "Petrochemical process"),
    ("农机装备", "agri_machinery", "Agricultural machinery"),
    ("光伏组件", "photovoltaics", "PV module"),
    ("光电检测", "optoelectronics", "Optoelectronic testing"),
    ("储能系统", "energy_storage", "Energy storage"),
    ("氢能装备", "energy_storage", "Hydrogen equipment"),
    ("生物医药", "bio_health", "Biopharma"),
    ("文化创意", "culture", "Creative design"),
    ("质量管理", "other", "Quality management"),
    ("市场营销", "other", "Marketing"),
    ("人力资源", "other", "Human resources"),
    ("财务会计", "other", "Accounting"),
]
ROLES = {
    "job": [
        ("工程师", "engineer"),
        ("技术员", "technician"),
        ("专员", "specialist"),
        ("助理工程师", "assistant engineer"),
    ],
    "internship": [("实习生", "intern")],
    "traineeship": [("见习生", "trainee"), ("见习岗", "trainee")],
    "practice": [("实践岗位", "practice position"), ("实践生", "student practice")],
}
KIND_WEIGHTS = {"job": 40, "internship": 20, "traineeship": 25, "practice": 15}
SALARY = {"job": (4000, 15000), "internship": (1800, 4000), "traineeship": (1600, 2600), "practice": (1500, 2500)}
SENTENCES = [
    "负责生产现场的工艺优化与技术支持。",
    "参与新产品试制、测试与数据整理。",
    "导师一对一带教，提供住宿和工作餐。",
    "熟悉 CAD、SolidWorks 等设计软件者优先。",
    "Work with Python, SQL and dashboards for production data.",
    "Support senior engineers on site; training is provided.",
    "享受洛阳市青年人才公寓和生活补贴政策。",
    "见习期间按月发放见习生活补贴。",
    "Good communication skills; English reading ability preferred.",
    "工作地点交通便利，五险一金，双休。",
]
MAJORS = [
    "机械工程",
    "材料科学与工程",
    "计算机科学与技术",
    "统计学",
    "电气工程及其自动化",
    "化学工程与工艺",
    "软件工程",
    "市场营销",
    "会计学",
    "",
]
EDUCATION = ["", "junior_college", "prep_technician", "technician", "bachelor", "bachelor", "master"]
APPLICATION_STATUSES = (
    ["submitted"] * 50
    + ["viewed"] * 20
    + ["interview"] * 10
    + ["offered"] * 5
    + ["hired"] * 5
    + ["rejected"] * 7
    + ["withdrawn"] * 3
)

# What graduates type: two-character Chinese words (the common case), longer ones, English
# words, two words at once, and nothing at all (browsing with filters).
WORDS = [
    "工程师",
    "见习",
    "轴承",
    "数据",
    "机械",
    "实习",
    "数据分析",
    "软件开发",
    "储能",
    "质量",
    "engineer",
    "data",
    "intern",
    "python",
    "数据 python",
    "轴承 工程师",
    "",
]
KINDS = ["", "", "job", "internship", "traineeship", "practice"]
DISTRICTS = ["", "", "", "luolong", "jianxi", "xigong", "laocheng"]
INDUSTRIES = ["", "", "", "", "bearings", "big_data", "equipment"]
SORTS = ["newest", "newest", "deadline", "salary"]


def credit_code(i: int) -> str:
    from portal.validators import credit_code_check_char

    first17 = f"{CREDIT_PREFIX}{i:06d}"
    return first17 + credit_code_check_char(first17)


def seed(positions: int, applications: int) -> dict[str, int]:
    """Bulk-insert what is missing; rows are deterministic, so running twice adds nothing."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from jobs.models import JobApplication, Position, TraineeshipBase
    from portal.models import ApplicantProfile, District, Organisation, User

    rng = random.Random(2026)
    districts = list(District.objects.order_by("sort_order", "id"))
    started = time.perf_counter()
    with transaction.atomic():
        Organisation.objects.bulk_create(
            [
                Organisation(
                    name=f"洛阳{FIELDS[i % len(FIELDS)][0]}科技有限公司{i:03d}",
                    credit_code=credit_code(i),
                    kind="private",
                    district=districts[i % len(districts)],
                    industry=FIELDS[i % len(FIELDS)][1],
                    size="medium",
                    address=f"洛阳市{districts[i % len(districts)].name}创业路 {i} 号",
                    contact_name="王经理",
                    contact_phone="0379-60000000",
                    status="verified",
                    verified_at=timezone.now(),
                )
                for i in range(ORGANISATIONS)
            ],
            ignore_conflicts=True,
        )
        orgs = list(
            Organisation.objects.filter(credit_code__startswith=CREDIT_PREFIX)
            .select_related("district")
            .order_by("credit_code")
        )
        TraineeshipBase.objects.bulk_create(
            [TraineeshipBase(organisation=org, description="就业见习基地") for org in orgs[:BASES]],
            ignore_conflicts=True,
        )

        password = make_password(None)  # unusable: bench graduates never sign in
        User.objects.bulk_create(
            [
                User(username=f"bench-grad-{i}", email=f"grad{i}@{EMAIL_DOMAIN}", password=password, role="graduate")
                for i in range(GRADUATES)
            ],
            ignore_conflicts=True,
        )
        graduates = list(
            User.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}").order_by("id").values_list("id", flat=True)
        )
        ApplicantProfile.objects.bulk_create(
            [
                ApplicantProfile(
                    user_id=uid,
                    real_name=f"基准{n}",
                    education_level="bachelor",
                    school="河南科技大学",
                    major=MAJORS[n % len(MAJORS)] or "机械工程",
                    hukou_city="郑州市",
                    district=districts[n % len(districts)],
                )
                for n, uid in enumerate(graduates)
            ],
            ignore_conflicts=True,
        )

        existing = Position.objects.filter(organisation__in=orgs).count()
        today = timezone.localdate()
        now = timezone.now()
        new_positions = []
        for i in range(existing, positions):
            rng.seed(i)
            kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
            field_cn, industry, field_en = rng.choice(FIELDS)
            role_cn, role_en = rng.choice(ROLES[kind])
            title = f"{field_cn}{role_cn}"
            if rng.random() < 0.3:
                title += f" ({field_en} {role_en})"
            # Half the traineeships are at the designated bases.
            org = orgs[i % BASES] if kind == "traineeship" and rng.random() < 0.5 else orgs[i % len(orgs)]
            low, high = SALARY[kind]
            salary_min = rng.randrange(low, high, 100)
            salary_max = None if rng.random() < 0.1 else salary_min + rng.randrange(0, 4000, 100)
            position = Position(
                organisation=org,
                kind=kind,
                title=title[:120],
                description=" ".join(rng.sample(SENTENCES, rng.randint(3, 5))),
                district=districts[rng.randrange(len(districts))],
                industry=industry,
                education_level=rng.choice(EDUCATION),
                majors=",".join(m for m in {rng.choice(MAJORS), rng.choice(MAJORS)} if m),
                headcount=rng.randint(1, 10),
                salary_min=salary_min,
                salary_max=salary_max,
                work_address=org.address,
                deadline=today + dt.timedelta(days=rng.randint(1, 180)),
                status="published",
                published_at=now - dt.timedelta(minutes=rng.randint(0, 200 * 24 * 60)),
            )
            position.search_text = position.compose_search_text()
            new_positions.append(position)
        Position.objects.bulk_create(new_positions, batch_size=2000)

        position_ids = list(Position.objects.filter(organisation__in=orgs).order_by("id").values_list("id", flat=True))[
            :positions
        ]
        have = JobApplication.objects.filter(position_id__in=position_ids).count()
        if have < applications and position_ids and graduates:
            per_graduate = -(-applications // len(graduates))
            rows = []
            for n, uid in enumerate(graduates):
                for k in range(per_graduate):
                    if len(rows) >= applications:
                        break
                    # 197 is coprime with the number of positions, so a graduate's picks differ.
                    pid = position_ids[(n * 37 + k * 197) % len(position_ids)]
                    rows.append(
                        JobApplication(
                            position_id=pid,
                            applicant_id=uid,
                            status=APPLICATION_STATUSES[(n + k) % len(APPLICATION_STATUSES)],
                        )
                    )
            for start in range(0, len(rows), 10_000):
                JobApplication.objects.bulk_create(rows[start : start + 10_000], ignore_conflicts=True)
    with connection.cursor() as cursor:  # fresh statistics and visibility map for the planner
        cursor.execute("VACUUM ANALYZE jobs_position")
        cursor.execute("VACUUM ANALYZE jobs_jobapplication")
    return {
        "positions": Position.objects.filter(organisation__in=orgs).count(),
        "applications": JobApplication.objects.filter(position__organisation__in=orgs).count(),
        "seconds": round(time.perf_counter() - started, 1),
    }


def search_paths(prefix: str, sort_param: str, count: int = 400) -> list[str]:
    """A fixed mix of searches: words, filters, sorts and pages 1 to 3."""
    rng = random.Random(7)
    paths = []
    for _ in range(count):
        params = {}
        if word := rng.choice(WORDS):
            params["q"] = word
        for name, choices in (("kind", KINDS), ("district", DISTRICTS), ("industry", INDUSTRIES)):
            if value := rng.choice(choices):
                params[name] = value
        if rng.random() < 0.15:
            params["education"] = "bachelor"
        if rng.random() < 0.15:
            params["salary_min"] = rng.choice([3000, 5000, 8000])
        if rng.random() < 0.05:
            params["base_only"] = "true" if sort_param == "ordering" else "on"
        params[sort_param] = rng.choice(SORTS)
        # Later pages only where there are surely enough rows (the API answers 404 past the end).
        broad = "q" not in params and sum(name in params for name in ("kind", "district", "industry")) <= 1
        page = rng.choices([1, 2, 3], weights=[70, 20, 10])[0] if broad else 1
        if page > 1:
            params["page"] = page
        paths.append(f"{prefix}?{urlencode(params)}")
    return paths


class Client(threading.Thread):
    """One client: a keep-alive connection (reopened when the server closes it), cycling
    through its paths until the deadline. Latency is measured per request."""

    def __init__(self, port: int, paths: list[str], start_at: float, measure_from: float, stop_at: float, offset: int):
        super().__init__(daemon=True)
        self.port, self.paths, self.offset = port, paths, offset
        self.start_at, self.measure_from, self.stop_at = start_at, measure_from, stop_at
        self.latencies: list[float] = []
        self.errors = 0
        self.statuses: dict[int, int] = {}

    def run(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=REQUEST_TIMEOUT)
        headers = {"Accept-Language": "zh-hans", "Connection": "keep-alive"}
        i = self.offset
        while time.perf_counter() < self.start_at:
            time.sleep(0.001)
        while True:
            started = time.perf_counter()
            if started >= self.stop_at:
                break
            path = self.paths[i % len(self.paths)]
            i += 1
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
            elapsed = time.perf_counter() - started
            if started >= self.measure_from:
                self.latencies.append(elapsed)
                self.statuses[status] = self.statuses.get(status, 0) + 1
                if status != 200:
                    self.errors += 1
        conn.close()


def drive(port: int, label: str, paths: list[str], clients: int, duration: float, warmup: float) -> dict:
    now = time.perf_counter()
    start_at = now + 0.2
    measure_from = start_at + warmup
    stop_at = measure_from + duration
    threads = [Client(port, paths, start_at, measure_from, stop_at, offset=n * 37) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + warmup + REQUEST_TIMEOUT + 5)
    latencies = sorted(x for t in threads for x in t.latencies)
    statuses: dict[int, int] = {}
    for t in threads:
        for code, n in t.statuses.items():
            statuses[code] = statuses.get(code, 0) + n
    return {
        "label": label,
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "p50": percentile(latencies, 0.50) * 1000,
        "p95": percentile(latencies, 0.95) * 1000,
        "p99": percentile(latencies, 0.99) * 1000,
        "errors": sum(t.errors for t in threads),
        "statuses": statuses,
    }


def explain() -> None:
    """EXPLAIN ANALYZE the count and the page query of a few typical searches, as the
    search page runs them (captured from the selector, so they are the real SQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jobs.selectors import PositionFilters, positions_search

    for q in ["轴承", "工程师", "engineer", "数据 python", ""]:
        qs = positions_search(filters=PositionFilters(q=q))
        with CaptureQueriesContext(connection) as ctx:
            qs.count()
            list(qs[:20])
        for name, captured in zip(("count", "page"), ctx.captured_queries, strict=True):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + captured["sql"])
                plan = [row[0] for row in cursor.fetchall()]
            print(f"\n-- q={q!r}: {name}")
            print("\n".join(plan))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each measurement")
    parser.add_argument("--clients", type=int, default=20, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default 2 x cores + 1)")
    parser.add_argument("--positions", type=int, default=POSITIONS)
    parser.add_argument("--applications", type=int, default=APPLICATIONS)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of typical searches")
    parser.add_argument(
        "--no-reference",
        dest="reference",
        action="store_false",
        help="skip the home page (a template page without queries)",
    )
    args = parser.parse_args()

    if not is_postgres():
        sys.exit("bench_search.py needs PostgreSQL: DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    workers = args.workers or 2 * cores + 1

    # bench.settings = development settings + the baseline view (bench/urls.py).
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    bench_environment()
    setup_django()
    seeded = seed(args.positions, args.applications)
    print(
        f"Seeded: {seeded['positions']:,} bench positions, {seeded['applications']:,} applications ({seeded['seconds']} s)"
    )
    if args.explain:
        explain()
    from django.db import connection

    connection.close()

    port = free_port()
    proc = start_gunicorn(port, workers)
    try:
        wait_until_up(port, proc)
        endpoints = [
            ("baseline: 1 query + tiny template", ["/bench/baseline/"]),
            ("/jobs/ search page", search_paths("/jobs/", "sort")),
            ("/api/v1/positions/", search_paths("/api/v1/positions/", "ordering")),
            ("/healthz (reference)", ["/healthz"]),
        ]
        if args.reference:
            # For reading the figures only: the cost of any page in the base layout (no query).
            endpoints.append(("/ home page (reference)", ["/"]))
        results = [drive(port, label, paths, args.clients, args.duration, args.warmup) for label, paths in endpoints]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    print()
    print(
        f"Search: gunicorn {workers} sync workers ({cores} cores) on {HOST}:{port}, {args.clients} concurrent clients, "
        f"{args.duration:.0f} s per endpoint after {args.warmup:.0f} s warm-up"
    )
    print(f"Database: {database_label()}   settings: {os.environ['DJANGO_SETTINGS_MODULE']} (DEBUG off)")
    print_table(
        ["endpoint", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms", "errors"],
        [
            [
                r["label"],
                str(r["requests"]),
                f"{r['rps']:.0f}",
                f"{r['p50']:.1f}",
                f"{r['p95']:.1f}",
                f"{r['p99']:.1f}",
                str(r["errors"]),
            ]
            for r in results
        ],
    )
    baseline = results[0]
    print()
    ok = True
    rows = []
    for r in results[1:3]:
        throughput = r["rps"] / baseline["rps"] if baseline["rps"] else 0.0
        p95 = r["p95"] / baseline["p95"] if baseline["p95"] else float("inf")
        passed = throughput >= THROUGHPUT_TARGET and p95 <= P95_TARGET and not r["errors"]
        ok &= passed
        rows.append(
            [
                r["label"],
                f"{throughput:.2f} (>= {THROUGHPUT_TARGET})",
                f"{p95:.2f} (<= {P95_TARGET:g})",
                "meets" if passed else "MISSES",
            ]
        )
    print_table(["against the baseline", "throughput ratio", "p95 ratio", "targets"], rows)
    if len(results) > 4:
        home = results[4]
        print()
        print(
            "For reading: against the home page (base layout, no query) search reaches "
            + ", ".join(
                f"{r['label']} {r['rps'] / home['rps']:.2f} x throughput, {r['p95'] / home['p95']:.2f} x p95"
                for r in results[1:3]
            )
        )
    healthz = results[3]
    print(
        "For reading: against /healthz (SELECT 1, JSON, no template) search reaches "
        + ", ".join(
            f"{r['label']} {r['rps'] / healthz['rps']:.2f} x throughput, {r['p95'] / healthz['p95']:.2f} x p95"
            for r in results[1:3]
        )
    )
    for r in results:
        if r["errors"]:
            print(f"{r['label']}: status counts {r['statuses']}")
    return 0 if ok and not baseline["errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
