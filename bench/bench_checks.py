"""Eligibility-check benchmark: 10,000 submitted subsidy applications across the seven
programmes, checked through a real Redis broker by real ``celery worker`` processes (issue
target: at least 200 checks/s on this machine).

What it does, bounded and on 127.0.0.1 only:

1. Uses the PostgreSQL server and credentials of DATABASE_URL with a database of its own
   (``portal_bench_checks`` unless ``--database`` says otherwise), created and migrated when
   missing. Creates, with bulk inserts and once (a second run reuses them), 4,000 graduates
   with complete profiles (consent, degree certificate, some interview invitation letters,
   a mix of graduation dates, household registrations and districts), 100 verified
   employers (half of them traineeship bases) with traineeship and job positions, and hires
   of graduates on them. Every run deletes the previous run's applications and creates
   10,000 fresh ones in the state a submission leaves them in (submitted, one check
   requested): rent subsidy, interview travel, start-up loan, incubation rent waiver,
   traineeship living subsidy (claimed by the bases, one month each), employer hiring
   subsidy and university–enterprise base subsidy.
2. Starts ``--processes`` worker processes of ``--concurrency`` each on a Redis database of its
   own (``--broker``, which must be empty: the benchmark purges it).
3. Baselines, in the same run: a bare ``bulk_create`` of 10,000 check rows in this process
   (the floor of storing the results) and 10,000 no-op tasks through the same broker and
   workers.
4. The checks as the portal queues them after a fact or parameter change
   (``subsidies.tasks.subsidy_checks_batch``, ``--batch`` applications a task), timed from the
   first message until every application has its stored check; then, with ``--single``, the
   same applications checked again with one ``subsidy_check`` task each, as a submission does.

The graduates have e-mail and SMS turned off (NotificationPreference), so a changed outcome
writes its in-app notification and no delivery task: the figures measure the checks.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal .venv/bin/python bench/bench_checks.py
    ... [--applications 10000] [--processes 2] [--concurrency 2] [--batch 100] [--single]
    ... [--broker redis://127.0.0.1:6379/12]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections import Counter
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

PREFIX = "bench-checks-"
GRADUATES = 4000
EMPLOYERS = 100
TRAINEES = 1500  # graduates 0..1499 are trainees of the bases
HIRES = 400  # graduates 1500..1899 were hired on job positions
TARGET_PER_SECOND = 200.0
# How the 10,000 applications are shared out (programme code: count); scaled by --applications.
MIX = {
    "rent-subsidy": 4000,
    "interview-travel": 2000,
    "startup-loan": 1000,
    "incubation-rent": 1000,
    "traineeship-living": 1500,
    "employer-hiring": 400,
    "university-base": 100,
}


# --- set-up ------------------------------------------------------------------------------------


def _credit_code(n: int) -> str:
    from portal.validators import credit_code_check_char

    first17 = f"91410300BC{n:07d}"
    return first17 + credit_code_check_char(first17)


def seed_people(today: dt.date) -> dict:
    """Graduates, employers, bases, positions and hires, created once (bulk inserts)."""
    from django.conf import settings

    from jobs.constants import ApplicationStatus, PositionKind, PositionStatus
    from jobs.models import JobApplication, Position, TraineeshipBase
    from portal.constants import (
        DocumentKind,
        EducationLevel,
        Industry,
        MemberRole,
        OrganisationKind,
        OrganisationSize,
        OrganisationStatus,
        Role,
    )
    from portal.models import (
        ApplicantProfile,
        Consent,
        District,
        Document,
        Membership,
        NotificationPreference,
        Organisation,
        User,
    )

    districts = list(District.objects.order_by("pk"))
    names = [f"{PREFIX}g{i:05d}" for i in range(GRADUATES)]
    if User.objects.filter(username__in=names).count() < GRADUATES:
        have = set(User.objects.filter(username__in=names).values_list("username", flat=True))
        User.objects.bulk_create(
            [
                User(username=n, email=f"{n}@bench.invalid", password="!bench", role=Role.GRADUATE, language="zh-hans")
                for n in names
                if n not in have
            ],
            batch_size=2000,
        )
    graduates = list(User.objects.filter(username__in=names).order_by("username").values_list("pk", flat=True))
    ApplicantProfile.objects.bulk_create(
        [
            ApplicantProfile(
                user_id=pk,
                real_name=f"基准{i}",
                id_number_encrypted="bench",  # only its presence is read by the checks
                phone=f"139{i:08d}",
                education_level=EducationLevel.BACHELOR,
                school="河南科技大学",
                major="机械工程",
                # Mostly recent graduates; every ninth graduated long ago (not eligible for most).
                graduation_date=today - dt.timedelta(days=2400 if i % 9 == 0 else 60 + (i * 37) % 600),
                hukou_province="河南省",
                hukou_city="洛阳市" if i % 7 == 0 else "郑州市",
                district=districts[i % len(districts)],
                works_in_luoyang=i % 11 != 0,
            )
            for i, pk in enumerate(graduates)
        ],
        batch_size=2000,
        ignore_conflicts=True,
    )
    Consent.objects.bulk_create(
        [Consent(user_id=pk, version=settings.PORTAL_CONSENT_VERSION) for pk in graduates],
        batch_size=2000,
        ignore_conflicts=True,
    )
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user_id=pk, email=False, sms=False) for pk in graduates],
        batch_size=2000,
        ignore_conflicts=True,
    )
    if not Document.objects.filter(owner_id__in=graduates).exists():
        docs = [
            Document(
                owner_id=pk,
                kind=kind,
                file=f"bench/{pk}-{kind}.pdf",
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
            )
            for i, pk in enumerate(graduates)
            for kind in (
                [DocumentKind.DEGREE_CERTIFICATE, DocumentKind.INVITATION_LETTER]
                if i < 2000 and i % 5 != 0
                else [DocumentKind.DEGREE_CERTIFICATE]
            )
        ]
        Document.objects.bulk_create(docs, batch_size=2000)

    owners = [f"{PREFIX}e{i:03d}" for i in range(EMPLOYERS)]
    have = set(User.objects.filter(username__in=owners).values_list("username", flat=True))
    User.objects.bulk_create(
        [
            User(username=n, email=f"{n}@bench.invalid", password="!bench", role=Role.EMPLOYER)
            for n in owners
            if n not in have
        ]
    )
    owner_ids = list(User.objects.filter(username__in=owners).order_by("username").values_list("pk", flat=True))
    NotificationPreference.objects.bulk_create(
        [NotificationPreference(user_id=pk, email=False, sms=False) for pk in owner_ids], ignore_conflicts=True
    )
    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"基准测试企业{i:03d}有限公司",
                credit_code=_credit_code(i),
                kind=OrganisationKind.PRIVATE if i % 10 else OrganisationKind.STATE,
                district=districts[i % len(districts)],
                industry=Industry.BEARINGS,
                size=OrganisationSize.SMALL,
                address="洛阳市洛龙区开元大道 1 号",
                contact_name="王经理",
                contact_phone="0379-60000000",
                status=OrganisationStatus.VERIFIED,
            )
            for i in range(EMPLOYERS)
        ],
        ignore_conflicts=True,
    )
    orgs = list(
        Organisation.objects.filter(credit_code__in=[_credit_code(i) for i in range(EMPLOYERS)]).order_by("name")
    )
    Membership.objects.bulk_create(
        [Membership(organisation=o, user_id=u, role=MemberRole.OWNER) for o, u in zip(orgs, owner_ids, strict=True)],
        ignore_conflicts=True,
    )
    bases = orgs[: EMPLOYERS // 2]
    TraineeshipBase.objects.bulk_create([TraineeshipBase(organisation=o) for o in bases], ignore_conflicts=True)
    if not Position.objects.filter(organisation__in=orgs).exists():
        Position.objects.bulk_create(
            [
                Position(
                    organisation=o,
                    kind=kind,
                    title=f"基准岗位 {o.pk} {kind}",
                    description="基准测试岗位",
                    district=o.district,
                    industry=Industry.BEARINGS,
                    education_level=EducationLevel.BACHELOR,
                    headcount=50,
                    work_address=o.address,
                    deadline=today + dt.timedelta(days=365),
                    status=PositionStatus.PUBLISHED,
                )
                for o in orgs
                for kind in (PositionKind.TRAINEESHIP, PositionKind.JOB)
            ]
        )
    traineeships = list(Position.objects.filter(organisation__in=bases, kind=PositionKind.TRAINEESHIP).order_by("pk"))
    jobs = list(Position.objects.filter(organisation__in=orgs[EMPLOYERS // 2 :], kind=PositionKind.JOB).order_by("pk"))
    if not JobApplication.objects.filter(applicant_id__in=graduates).exists():
        rows = [
            JobApplication(
                position=traineeships[i % len(traineeships)],
                applicant_id=graduates[i],
                status=ApplicationStatus.HIRED,
                hired_on=today - dt.timedelta(days=30 * (i % 10) + 5),
            )
            for i in range(TRAINEES)
        ] + [
            JobApplication(
                position=jobs[i % len(jobs)],
                applicant_id=graduates[TRAINEES + i],
                status=ApplicationStatus.HIRED,
                hired_on=today - dt.timedelta(days=i % 60),
            )
            for i in range(HIRES)
        ]
        JobApplication.objects.bulk_create(rows, batch_size=2000)
    hires = list(
        JobApplication.objects.filter(applicant_id__in=graduates, status=ApplicationStatus.HIRED)
        .select_related("position__organisation")
        .order_by("pk")
    )
    profiles = dict(ApplicantProfile.objects.filter(user_id__in=graduates).values_list("user_id", "district_id"))
    return {
        "graduates": graduates,
        "orgs": orgs,
        "owners": dict(zip([o.pk for o in orgs], owner_ids, strict=True)),
        "hires": hires,
        "districts": profiles,
    }


def _month(day: dt.date, back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(start: dt.date, months: int) -> dt.date:
    nxt = _month(start, -months)
    return nxt - dt.timedelta(days=1)


def reset_applications(people: dict, total: int, today: dt.date) -> list[int]:
    """Delete the previous run's applications (checks, audit entries, notifications) and
    create ``total`` submitted ones, each with one check requested."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from portal.models import AuditEntry, Notification
    from subsidies.constants import SubsidyStatus
    from subsidies.models import EligibilityCheck, Programme, SubsidyApplication

    graduates, orgs, hires, districts = people["graduates"], people["orgs"], people["hires"], people["districts"]
    users = graduates + list(people["owners"].values())
    old = SubsidyApplication.objects.filter(applicant_id__in=users)
    EligibilityCheck.objects.filter(application__in=old).delete()
    AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(SubsidyApplication),
        object_id__in=[str(pk) for pk in old.values_list("pk", flat=True)],
    ).delete()
    Notification.objects.filter(user_id__in=users, kind__startswith="subsidy_").delete()
    old.delete()

    programmes = {p.code: p for p in Programme.objects.all()}
    scale = total / sum(MIX.values())
    counts = {code: round(n * scale) for code, n in MIX.items()}
    counts["rent-subsidy"] += total - sum(counts.values())
    now = timezone.now()
    rows: list[SubsidyApplication] = []

    def add(code, *, applicant, beneficiary, start, end, key, district, details=None, organisation=None, hire=None):
        rows.append(
            SubsidyApplication(
                programme=programmes[code],
                applicant_id=applicant,
                beneficiary_id=beneficiary,
                organisation=organisation,
                job_application_id=hire,
                district_id=district,
                period_start=start,
                period_end=end,
                details=details or {},
                dedupe_key=key,
                status=SubsidyStatus.SUBMITTED,
                check_sequence=1,
                submitted_at=now,
            )
        )

    this_month = today.replace(day=1)
    # Graduates' own applications: one rent subsidy claim per graduate and month.
    for n in range(counts["rent-subsidy"]):
        pk = graduates[n % len(graduates)]
        start = _month(this_month, n // len(graduates))
        months = 1 + n % 12
        add(
            "rent-subsidy",
            applicant=pk,
            beneficiary=pk,
            start=start,
            end=_month_end(start, months),
            key=f"person:{pk}:{start:%Y-%m}",
            district=districts[pk],
            details={"months": months},
        )
    for n in range(counts["interview-travel"]):
        pk = graduates[n]
        add(
            "interview-travel",
            applicant=pk,
            beneficiary=pk,
            start=today,
            end=today,
            key=f"person:{pk}:",
            district=districts[pk],
        )
    for n in range(counts["startup-loan"]):
        pk = graduates[2000 + n]
        add(
            "startup-loan",
            applicant=pk,
            beneficiary=pk,
            start=today,
            end=today,
            key=f"person:{pk}:",
            district=districts[pk],
            details={
                "product": ["talent", "growth", "bank_investment"][n % 3],
                "business_name": "基准创业",
                "loan_amount": "200000",
            },
        )
    for n in range(counts["incubation-rent"]):
        pk = graduates[3000 + n]
        code = _credit_code(10_000 + n)
        months = 1 + n % 12
        add(
            "incubation-rent",
            applicant=pk,
            beneficiary=pk,
            start=this_month,
            end=_month_end(this_month, months),
            key=f"business:{code}:{this_month:%Y-%m}",
            district=districts[pk],
            details={
                "business_name": f"基准孵化{n}",
                "credit_code": code,
                "incubator": "洛阳创业园",
                "months": months,
                "monthly_rent": "1500.00",
            },
        )
    # Employers' claims: a traineeship base per trainee and month, a hire, a base per year.
    trainees = [h for h in hires if h.position.kind == "traineeship"]
    hired = [h for h in hires if h.position.kind == "job"]
    for n in range(counts["traineeship-living"]):
        hire = trainees[n % len(trainees)]
        start = _month(hire.hired_on.replace(day=1), -(n // len(trainees)))
        org = hire.position.organisation
        add(
            "traineeship-living",
            applicant=people["owners"][org.pk],
            beneficiary=hire.applicant_id,
            start=start,
            end=_month_end(start, 1),
            key=f"person:{hire.applicant_id}:{start:%Y-%m}",
            district=org.district_id,
            organisation=org,
            hire=hire.pk,
        )
    for n in range(counts["employer-hiring"]):
        hire = hired[n % len(hired)]
        org = hire.position.organisation
        add(
            "employer-hiring",
            applicant=people["owners"][org.pk],
            beneficiary=hire.applicant_id,
            start=today,
            end=today,
            key=f"hire:{hire.pk}",
            district=org.district_id,
            organisation=org,
            hire=hire.pk,
        )
    for n in range(counts["university-base"]):
        org = orgs[n % len(orgs)]
        year = today.year - n // len(orgs)
        add(
            "university-base",
            applicant=people["owners"][org.pk],
            beneficiary=people["owners"][org.pk],
            start=dt.date(year, 1, 1),
            end=dt.date(year, 12, 31),
            key=f"org:{org.pk}:{year}",
            district=org.district_id,
            organisation=org,
            details={"university": "河南科技大学", "base_name": "基准基地", "scale": "50 人"},
        )
    SubsidyApplication.objects.bulk_create(rows, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return list(SubsidyApplication.objects.filter(applicant_id__in=users).order_by("pk").values_list("pk", flat=True))


# --- measurements ------------------------------------------------------------------------------------


def bare_bulk_create(ids: list[int]) -> float:
    """The floor of storing the results: the same number of check rows in one bulk insert."""
    from subsidies.models import EligibilityCheck

    started = time.perf_counter()
    EligibilityCheck.objects.bulk_create(
        [EligibilityCheck(application_id=pk, sequence=0, eligible=True, rule_version="bench", result={}) for pk in ids],
        batch_size=1000,
    )
    seconds = time.perf_counter() - started
    EligibilityCheck.objects.filter(application_id__in=ids, sequence=0).delete()
    return seconds


def batched_checks(ids: list[int], batch: int, procs, timeout: float) -> float:
    from subsidies.models import EligibilityCheck
    from subsidies.tasks import subsidy_checks_batch

    done = EligibilityCheck.objects.filter(application_id__in=ids, sequence=1)
    started = time.perf_counter()
    for start in range(0, len(ids), batch):
        subsidy_checks_batch.delay(ids[start : start + batch], "bench")
    wait_for(lambda: done.count() >= len(ids), timeout, "the batched checks", procs)
    return time.perf_counter() - started


def single_checks(ids: list[int], procs, timeout: float) -> float:
    """Each application checked by its own task, as after a submission (a second request)."""
    from django.db.models import F

    from subsidies.models import EligibilityCheck, SubsidyApplication
    from subsidies.tasks import subsidy_check

    SubsidyApplication.objects.filter(pk__in=ids).update(check_sequence=F("check_sequence") + 1)
    sequences = dict(SubsidyApplication.objects.filter(pk__in=ids).values_list("pk", "check_sequence"))
    done = EligibilityCheck.objects.filter(application_id__in=ids, sequence=2)
    started = time.perf_counter()
    for pk in ids:
        subsidy_check.delay(pk, sequences[pk], "bench")
    wait_for(lambda: done.count() >= len(ids), timeout, "the single checks", procs)
    return time.perf_counter() - started


def verify(ids: list[int]) -> dict:
    """Exactly one check per request, and the outcomes."""
    from django.db.models import Count

    from subsidies.models import EligibilityCheck, SubsidyApplication

    per_app = Counter(
        EligibilityCheck.objects.filter(application_id__in=ids, sequence=1)
        .values("application_id")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    statuses = Counter(SubsidyApplication.objects.filter(pk__in=ids).values_list("status", flat=True))
    return {"checks_per_app": per_app, "statuses": statuses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=2, help="celery worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size of each worker process")
    parser.add_argument("--batch", type=int, default=100, help="applications per subsidy_checks_batch task")
    parser.add_argument("--single", action="store_true", help="also check each application with its own task")
    parser.add_argument("--broker", default=os.environ.get("BENCH_CHECKS_BROKER_URL", "redis://127.0.0.1:6379/12"))
    parser.add_argument("--database", default="portal_bench_checks", help="database name on the DATABASE_URL server")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up on a step after this many seconds")
    args = parser.parse_args()

    worker_bench_environment("bench_checks.py", args.broker, args.database)
    started = time.perf_counter()
    setup_django()

    from django.utils import timezone

    from portal.celery import app

    today = timezone.localdate()
    people = seed_people(today)
    ids = reset_applications(people, args.applications, today)
    print(
        f"Set-up: {len(people['graduates']):,} graduates, {len(people['orgs'])} employers, "
        f"{len(people['hires']):,} hires, {len(ids):,} submitted applications ({time.perf_counter() - started:.1f} s)"
    )

    rows: list[tuple[str, int, float]] = [
        ("in-process: bare bulk_create of the check rows (baseline)", len(ids), bare_bulk_create(ids))
    ]
    workers = args.processes * args.concurrency
    app.control.purge()
    procs = start_workers(args.processes, args.concurrency, "bench-checks")
    try:
        wait_for(lambda: len(app.control.ping(timeout=0.5)) >= args.processes, 60, "the workers to start", procs)
        label = f"workers {args.processes}x{args.concurrency}"
        rows.append(
            (
                f"{label}: no-op tasks (baseline)",
                len(ids),
                noop_tasks(len(ids), args.broker, procs, args.timeout, "checks"),
            )
        )
        checked = batched_checks(ids, args.batch, procs, args.timeout)
        rows.append((f"{label}: checks, {args.batch} a task (subsidy_checks_batch)", len(ids), checked))
        result = verify(ids)
        if args.single:
            rows.append(
                (f"{label}: checks, one task each (subsidy_check)", len(ids), single_checks(ids, procs, args.timeout))
            )
    finally:
        stop_workers(procs)
        app.control.purge()
        import redis

        redis.Redis.from_url(args.broker).flushdb()  # checked empty at the start: only our keys

    print()
    print(f"Eligibility checks of {len(ids):,} submitted applications   database: {database_label()}")
    print(
        f"Broker: {args.broker}   workers: {args.processes} processes x {args.concurrency} = {workers} task slots   "
        f"cores: {os.cpu_count()}"
    )
    print_table(
        ["measurement", "n", "seconds", "per second"],
        [[label, f"{n:,}", f"{s:.2f}", f"{n / s:,.0f}"] for label, n, s in rows],
    )
    print()
    outcomes = ", ".join(f"{status} {n:,}" for status, n in sorted(result["statuses"].items()))
    print(f"Outcomes: {outcomes}")
    print(f"Stored checks per application: {dict(result['checks_per_app'])} (every one exactly once)")
    rate = len(ids) / checked
    verdict = "met" if rate >= TARGET_PER_SECOND else "MISSED"
    print(f"Target >= {TARGET_PER_SECOND:.0f} checks/s: {rate:,.0f} checks/s in {checked:.1f} s, {verdict}")
    return 0 if result["checks_per_app"] == Counter({1: len(ids)}) else 1


if __name__ == "__main__":
    sys.exit(main())
