"""Reads shared by the pages, the API and the admin: the search (Chinese and English words,
filters, sorts, only open published positions), the employer's and the graduate's lists,
and the yearly figures against the plan's targets."""

import datetime as dt

import pytest
from django.utils import timezone

from jobs import selectors, services
from jobs.constants import ApplicationStatus, PositionKind, PositionStatus
from jobs.models import Position
from jobs.selectors import PositionFilters, positions_search
from portal.constants import EducationLevel, Industry
from portal.models import Parameter
from tests.jobs.factories import JobApplicationFactory, PositionFactory, TraineeshipBaseFactory
from tests.portal.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()
TODAY = timezone.localdate()


def _days(n):
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def catalogue(district_1, district_2):
    """Four open published positions, and hidden ones that match the same words."""
    bearings = OrganisationFactory(verified=True, district=district_1, name="洛阳精密轴承有限公司")
    data_co = OrganisationFactory(verified=True, district=district_2, name="涧西数据科技有限公司")
    base_org = OrganisationFactory(verified=True, district=district_1, name="洛阳见习基地机械厂")
    heavy = OrganisationFactory(verified=True, district=district_2, name="中信重工机械股份有限公司")
    TraineeshipBaseFactory(organisation=base_org)
    p = {
        "bearing": PositionFactory(
            organisation=bearings,
            published=True,
            published_at=NOW - dt.timedelta(days=3),
            deadline=_days(30),
            kind=PositionKind.JOB,
            title="轴承工艺工程师",
            description="精密轴承生产工艺优化。",
            industry=Industry.BEARINGS,
            education_level=EducationLevel.BACHELOR,
            majors="机械工程,材料科学与工程",
            salary_min=6000,
            salary_max=9000,
        ),
        "data": PositionFactory(
            organisation=data_co,
            published=True,
            published_at=NOW - dt.timedelta(days=2),
            deadline=_days(10),
            kind=PositionKind.INTERNSHIP,
            title="Data analyst intern (数据分析实习生)",
            description="Production data with Python and SQL; 生产数据分析。",
            industry=Industry.BIG_DATA,
            education_level=EducationLevel.JUNIOR_COLLEGE,
            majors="统计学",
            salary_min=2500,
            salary_max=3000,
            work_address="洛阳市涧西区建设路 2 号",
        ),
        "trainee": PositionFactory(
            organisation=base_org,
            published=True,
            published_at=NOW - dt.timedelta(days=1),
            deadline=_days(60),
            kind=PositionKind.TRAINEESHIP,
            title="机械设计见习生",
            description="结构设计与测试，导师带教。",
            industry=Industry.EQUIPMENT,
            education_level="",
            majors="",
            salary_min=2000,
            salary_max=2400,
        ),
        "software": PositionFactory(
            organisation=heavy,
            published=True,
            published_at=NOW,
            deadline=_days(5),
            kind=PositionKind.JOB,
            title="Software Engineer (嵌入式软件工程师)",
            description="Embedded software.",
            industry=Industry.ROBOTS,
            education_level=EducationLevel.MASTER,
            majors="软件工程",
            salary_min=8000,
            salary_max=None,
            work_address="洛阳市涧西区建设路 206 号",
        ),
    }
    hidden_words = {"title": "轴承 engineer 数据 见习 Python", "description": "轴承 Engineer 数据分析"}
    hidden = [
        PositionFactory(organisation=bearings, draft=True, **hidden_words),
        PositionFactory(organisation=bearings, pending=True, **hidden_words),
        PositionFactory(organisation=bearings, rejected=True, **hidden_words),
        PositionFactory(organisation=bearings, closed=True, **hidden_words),
        PositionFactory(organisation=bearings, expired=True, **hidden_words),
        # Published, but its deadline passed before the hourly expiry ran.
        PositionFactory(organisation=bearings, published=True, deadline=_days(-1), **hidden_words),
    ]
    return p, hidden


def _titles(catalogue, **filters):
    p, _hidden = catalogue
    names = {v.pk: k for k, v in p.items()}
    return [
        names.get(pk, f"hidden:{pk}")
        for pk in positions_search(filters=PositionFilters(**filters)).values_list("pk", flat=True)
    ]


def test_without_words_every_open_published_position_newest_first(catalogue):
    assert _titles(catalogue) == ["software", "trainee", "data", "bearing"]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("轴承", ["bearing"]),  # two Chinese characters, inside a longer word
        ("工艺", ["bearing"]),
        ("数据分析", ["data"]),
        ("见习", ["trainee"]),  # in the employer's name and the title
        ("工程师", ["software", "bearing"]),
        ("engineer", ["software"]),
        ("ENGINEER", ["software"]),  # case does not matter
        ("python", ["data"]),
        ("中信重工", ["software"]),  # the employer's name
        ("材料科学", ["bearing"]),  # the majors
        ("建设路", ["software", "data"]),  # the work address
        ("不存在的词", []),
    ],
)
def test_words_are_found_in_chinese_and_english(catalogue, q, expected):
    assert _titles(catalogue, q=q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("数据 Python", ["data"]),
        ("  engineer   嵌入式 ", ["software"]),
        ("轴承 Python", []),
        ("工程师 洛阳精密", ["bearing"]),
    ],
)
def test_every_word_must_match(catalogue, q, expected):
    assert _titles(catalogue, q=q) == expected


def test_like_wildcards_in_the_words_are_taken_literally(catalogue):
    assert _titles(catalogue, q="%") == []
    assert _titles(catalogue, q="_") == []


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": PositionKind.INTERNSHIP}, ["data"]),
        ({"kind": PositionKind.TRAINEESHIP}, ["trainee"]),
        ({"kind": PositionKind.PRACTICE}, []),
        ({"district": "jianxi"}, ["software", "data"]),
        ({"district": "luolong"}, ["trainee", "bearing"]),
        ({"industry": Industry.BEARINGS}, ["bearing"]),
        # "My education": what asks for it, for less, or for nothing.
        ({"education": EducationLevel.BACHELOR}, ["trainee", "data", "bearing"]),
        ({"education": EducationLevel.JUNIOR_COLLEGE}, ["trainee", "data"]),
        ({"education": EducationLevel.DOCTOR}, ["software", "trainee", "data", "bearing"]),
        ({"salary_min": 5000}, ["software", "bearing"]),  # 8000 with no upper end counts
        ({"salary_min": 8500}, ["bearing"]),  # up to 9000
        ({"salary_min": 9500}, []),
        ({"base_only": True}, ["trainee"]),
        ({"district": "jianxi", "q": "数据"}, ["data"]),
        ({"district": "luolong", "kind": PositionKind.JOB, "salary_min": 7000}, ["bearing"]),
    ],
)
def test_filters(catalogue, filters, expected):
    assert _titles(catalogue, **filters) == expected


def test_base_only_leaves_out_revoked_bases(catalogue, staff_1):
    p, _hidden = catalogue
    base = p["trainee"].organisation.traineeship_base
    services.traineeship_base_revoke(base=base, actor=staff_1)

    assert _titles(catalogue, base_only=True) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("newest", ["software", "trainee", "data", "bearing"]),
        ("deadline", ["software", "data", "bearing", "trainee"]),
        ("salary", ["bearing", "software", "data", "trainee"]),  # 9000, 8000 (from), 3000, 2400
    ],
)
def test_sort_orders(catalogue, sort, expected):
    assert _titles(catalogue, sort=sort) == expected


def test_positions_without_pay_sort_last_by_salary(catalogue, district_1):
    p, _hidden = catalogue
    unpaid = PositionFactory(
        organisation=p["bearing"].organisation, published=True, salary_min=None, salary_max=None, title="面议岗位"
    )

    ids = list(positions_search(filters=PositionFilters(sort="salary")).values_list("pk", flat=True))
    assert ids[-1] == unpaid.pk


def test_hidden_positions_never_show_whatever_the_words_or_filters(catalogue):
    _p, hidden = catalogue
    hidden_ids = {h.pk for h in hidden}
    for filters in (
        {},
        {"q": "轴承"},
        {"q": "engineer"},
        {"q": "数据分析"},
        {"sort": "deadline"},
        {"sort": "salary"},
        {"district": "luolong"},
    ):
        found = set(positions_search(filters=PositionFilters(**filters)).values_list("pk", flat=True))
        assert not found & hidden_ids, filters
    for h in hidden:
        assert selectors.position_public(pk=h.pk) is None or h.status == PositionStatus.PUBLISHED


def test_the_date_decides_what_is_open(catalogue):
    assert _titles(catalogue)[0] == "software"

    in_a_week = positions_search(filters=PositionFilters(), today=_days(7))
    assert "Software" not in " ".join(in_a_week.values_list("title", flat=True))


def test_public_detail_only_for_published_positions(catalogue):
    p, hidden = catalogue

    assert selectors.position_public(pk=p["data"].pk) == p["data"]
    assert [selectors.position_public(pk=h.pk) for h in hidden[:5]] == [None] * 5


def test_search_reads_organisation_and_district_in_the_same_query(catalogue, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = list(positions_search(filters=PositionFilters(q="工程师")))
        assert [(r.organisation.name, r.district.code) for r in rows]


# --- Employer and graduate lists --------------------------------------------------------------


def test_employer_counts_and_list(org_x, employer_x, graduate_a, graduate_b):
    published = PositionFactory(organisation=org_x, published=True)
    PositionFactory(organisation=org_x, pending=True)
    PositionFactory(organisation=org_x)
    PositionFactory(organisation=org_x, draft=True)
    services.job_application_submit(position=published, applicant=graduate_a)
    services.job_application_submit(position=published, applicant=graduate_b)

    counts = selectors.position_status_counts(organisation=org_x)
    assert counts == {"draft": 2, "pending": 1, "published": 1, "rejected": 0, "closed": 0, "expired": 0}
    rows = {p.pk: p.applicant_count for p in selectors.positions_of_organisation(organisation=org_x)}
    assert rows[published.pk] == 2
    assert sorted(rows.values()) == [0, 0, 0, 2]


def test_member_sees_only_the_positions_and_applications_of_their_organisations(
    position, position_y, employer_x, employer_y, graduate_a
):
    application = services.job_application_submit(position=position, applicant=graduate_a)
    services.job_application_submit(position=position_y, applicant=graduate_a)

    assert list(selectors.positions_for_member(user=employer_x)) == [position]
    assert list(selectors.applications_for_member(user=employer_x)) == [application]
    assert list(selectors.applications_for_position(position=position)) == [application]
    assert selectors.applications_of(user=graduate_a).count() == 2
    assert selectors.applications_of(user=employer_y).count() == 0


def test_history_of_many_applications_in_one_query(
    position, position_y, employer_x, graduate_a, django_assert_num_queries
):
    first = services.job_application_submit(position=position, applicant=graduate_a)
    second = services.job_application_submit(position=position_y, applicant=graduate_a)
    services.job_application_mark_viewed(application=first, actor=employer_x)
    services.job_application_reject(application=first, actor=employer_x, reason="岗位已满")

    with django_assert_num_queries(1):  # the content type is cached
        history = selectors.history_for([first, second])

    assert [(h.from_status, h.to_status) for h in history[first.pk]] == [
        ("submitted", "viewed"),
        ("viewed", "rejected"),
    ]
    assert history.get(second.pk, []) == []
    assert selectors.history_for([]) == {}


def test_staff_see_the_positions_of_their_districts(position, position_y, staff_1, staff_2, city_staff):
    assert list(selectors.positions_for_staff(user=staff_1)) == [position]
    assert list(selectors.positions_for_staff(user=staff_2)) == [position_y]
    assert set(selectors.positions_for_staff(user=city_staff)) == {position, position_y}


def test_traineeship_bases_with_their_open_traineeships(district_1):
    base = TraineeshipBaseFactory(organisation__district=district_1)
    PositionFactory(organisation=base.organisation, published=True, kind=PositionKind.TRAINEESHIP)
    PositionFactory(organisation=base.organisation, published=True, kind=PositionKind.TRAINEESHIP, deadline=_days(-1))
    PositionFactory(organisation=base.organisation, published=True, kind=PositionKind.JOB)
    PositionFactory(organisation=base.organisation, pending=True, kind=PositionKind.TRAINEESHIP)
    TraineeshipBaseFactory(organisation__district=district_1, active=False)

    bases = list(selectors.traineeship_bases())

    assert [(b.pk, b.open_positions) for b in bases] == [(base.pk, 1)]
    catalogue = list(selectors.base_catalogue(base=base))
    assert [p.kind for p in catalogue] == [PositionKind.TRAINEESHIP]


# --- Figures against the plan's targets ----------------------------------------------------


def test_targets_come_from_the_parameters_of_the_migration():
    keys = dict(Parameter.objects.filter(key__startswith="jobs-").values_list("key", "value"))
    assert keys == {"jobs-positions-target": 10000, "jobs-hires-target": 10000}


@pytest.fixture
def year_of_figures(district_1, district_2):
    org_1 = OrganisationFactory(verified=True, district=district_1)
    org_2 = OrganisationFactory(verified=True, district=district_2)
    last_year = NOW.replace(year=NOW.year - 1)
    PositionFactory(organisation=org_1, published=True, kind=PositionKind.JOB)
    PositionFactory(organisation=org_1, closed=True, kind=PositionKind.PRACTICE)  # published, then closed
    traineeship = PositionFactory(organisation=org_1, published=True, kind=PositionKind.TRAINEESHIP)
    internship = PositionFactory(organisation=org_2, published=True, kind=PositionKind.INTERNSHIP)
    PositionFactory(organisation=org_2, published=True, published_at=last_year)
    PositionFactory(organisation=org_2, pending=True)  # never published
    JobApplicationFactory(position=traineeship, hired=True)
    JobApplicationFactory(position=traineeship, offered=True)
    JobApplicationFactory(position=internship, hired=True)
    JobApplicationFactory(position=internship, hired=True)
    JobApplicationFactory(position=internship, rejected=True)


def test_job_statistics_for_city_staff(year_of_figures, city_staff):
    stats = selectors.job_statistics(user=city_staff)

    assert stats.year == TODAY.year
    assert (stats.positions_target, stats.hires_target) == (10000, 10000)
    assert (stats.positions_total, stats.hires_total) == (4, 3)
    assert {r["name"]: (r["positions"], r["hires"]) for r in stats.by_district} == {"洛龙区": (3, 1), "涧西区": (1, 2)}
    by_kind = {r["name"]: (r["positions"], r["hires"]) for r in stats.by_kind}
    assert len(by_kind) == len(PositionKind)
    assert by_kind[PositionKind.JOB.label] == (1, 0)
    assert by_kind[PositionKind.PRACTICE.label] == (1, 0)
    assert by_kind[PositionKind.TRAINEESHIP.label] == (1, 1)
    assert by_kind[PositionKind.INTERNSHIP.label] == (1, 2)


def test_job_statistics_are_scoped_to_the_staff_district(year_of_figures, staff_1):
    stats = selectors.job_statistics(user=staff_1)

    assert (stats.positions_total, stats.hires_total) == (3, 1)
    assert [r["name"] for r in stats.by_district] == ["洛龙区"]


def test_job_statistics_of_last_year(year_of_figures, city_staff):
    stats = selectors.job_statistics(user=city_staff, year=TODAY.year - 1)

    assert (stats.positions_total, stats.hires_total) == (1, 0)


def test_a_new_target_takes_effect_from_its_date(city_staff):
    Parameter.objects.create(key="jobs-positions-target", value=12000, effective_from=dt.date(TODAY.year, 1, 1))

    assert selectors.job_statistics(user=city_staff).positions_target == 12000
    assert selectors.job_statistics(user=city_staff, year=TODAY.year - 1).positions_target == 10000


def test_hired_status_counts_once_per_application(year_of_figures, city_staff):
    assert (
        selectors.job_statistics(user=city_staff).hires_total
        == JobApplicationFactory._meta.model.objects.filter(status=ApplicationStatus.HIRED).count()
    )


# --- The search column and its indexes ---------------------------------------------------------


def test_search_text_is_stored_in_lower_case(org_x):
    position = PositionFactory(organisation=org_x, title="Senior CAD Engineer 轴承")

    assert "senior cad engineer 轴承" in position.search_text
    assert position.search_text == position.search_text.lower()
    assert [p.pk for p in positions_search(filters=PositionFilters(q="cAd"))] == []  # not published
    position.status = PositionStatus.PUBLISHED
    position.save(update_fields=["status"])
    assert [p.pk for p in positions_search(filters=PositionFilters(q="cAd EnGiNeEr"))] == [position.pk]


def test_the_migration_lowers_the_search_text_of_existing_rows(org_x):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("jobs.migrations.0005_search_text_lower")
    position = PositionFactory(organisation=org_x)
    Position = position._meta.model
    Position.objects.filter(pk=position.pk).update(search_text="Old UPPER Text 轴承")

    migration.lower_existing(apps, None)

    assert Position.objects.get(pk=position.pk).search_text == "old upper text 轴承"


def _plan(queryset, *disabled) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        for setting in disabled:
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_the_trigram_index_serves_words_of_three_characters_or_more(catalogue):
    # A handful of rows never needs an index; with scans and plain index scans switched
    # off, only an index that matches the search expression can answer: the trigram index
    # on the lower-case column (the selector's LIKE must not wrap the column in UPPER()).
    search_sql = str(positions_search(filters=PositionFilters(q="工程师")).query)
    plan = _plan(
        Position.objects.filter(search_text__contains="工程师").values("pk"), "enable_seqscan", "enable_indexscan"
    )

    assert "position_search_trgm" in plan
    assert "UPPER(" not in search_sql
    assert (
        '"jobs_position"."search_text"::text LIKE' in search_sql or '"jobs_position"."search_text" LIKE' in search_sql
    )


@pytest.mark.postgres
def test_the_salary_order_is_read_from_its_index(catalogue):
    plan = _plan(positions_search(filters=PositionFilters(sort="salary"))[:20], "enable_seqscan")

    assert "position_published_pay" in plan
    assert "Sort Key" not in plan.split("Limit")[1].split("Index Scan")[0]
