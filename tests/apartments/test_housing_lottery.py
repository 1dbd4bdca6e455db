"""The housing lottery anyone can repeat: the same public value, round and entries give the
same ranks in whatever order they come; another value or round gives another order; the
priority groups come first in the round's order. A drawn round's published input, fed to
``apartments.lottery`` (in this process and through its command line, as an outsider would),
gives back the stored ranks."""

import datetime as dt
import hashlib
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from apartments import lottery, selectors, services
from apartments.constants import AllocationMethod, ApplicantList, PriorityBucket, ProjectKind, RoundStatus
from apartments.models import HousingApplication
from portal.constants import EducationLevel
from tests.apartments.conftest import housing_apply, make_housing_graduate, make_project, make_round

REPO_ROOT = Path(__file__).resolve().parents[2]
SEED = "03 17 22 28 31 + 09"
GROUPS = ["out_of_town", "postgraduate", "bachelor", "technician", "other"]


def entries(count: int = 30) -> list[lottery.Entry]:
    rng = random.Random(7)
    return [
        lottery.Entry(f"R3-{n:05d}", rng.choice(["graduate", "general"]), rng.choice(GROUPS))
        for n in range(1, count + 1)
    ]


def ranks(rows) -> dict[str, tuple[str, int, int]]:
    return {r.reference: (r.applicant_list, r.rank, r.bucket_rank) for r in rows}


def order(rows) -> list[str]:
    return [r.reference for r in sorted(rows, key=lambda r: (r.applicant_list, r.rank))]


def test_the_same_inputs_in_any_order_give_the_same_ranks():
    given = entries()
    first = lottery.draw(public_seed=SEED, round_id=3, entries=given, buckets=GROUPS)
    for seed in range(5):
        shuffled = given[:]
        random.Random(seed).shuffle(shuffled)
        again = lottery.draw(public_seed=SEED, round_id=3, entries=shuffled, buckets=GROUPS)
        assert ranks(again) == ranks(first)
    # Surrounding blanks of the public value (as typed or copied) do not change the seed.
    assert ranks(lottery.draw(public_seed=f"  {SEED}\n", round_id=3, entries=given, buckets=GROUPS)) == ranks(first)


def test_the_seed_and_tickets_are_plain_sha256_anyone_can_compute():
    digest = hashlib.sha256(f"{SEED}|3".encode()).hexdigest()
    assert lottery.seed_digest(SEED, 3) == digest
    [row] = lottery.draw(
        public_seed=SEED, round_id=3, entries=[lottery.Entry("R3-00001", "graduate", "other")], buckets=GROUPS
    )
    assert row.ticket == hashlib.sha256(f"{digest}|R3-00001".encode()).hexdigest()
    assert (row.rank, row.bucket_rank) == (1, 1)


def test_another_public_value_or_another_round_gives_another_order():
    given = [lottery.Entry(f"R3-{n:05d}", "graduate", "other") for n in range(1, 21)]
    base = order(lottery.draw(public_seed=SEED, round_id=3, entries=given, buckets=GROUPS))
    other_value = order(lottery.draw(public_seed="03 17 22 28 31 + 10", round_id=3, entries=given, buckets=GROUPS))
    other_round = order(lottery.draw(public_seed=SEED, round_id=4, entries=given, buckets=GROUPS))
    assert sorted(base) == sorted(other_value) == sorted(other_round)
    assert base != other_value
    assert base != other_round


def test_each_list_is_ranked_from_one_groups_first_in_the_rounds_order_then_by_ticket():
    given = entries(60)
    rows = lottery.draw(public_seed=SEED, round_id=3, entries=given, buckets=GROUPS)
    place = {code: i for i, code in enumerate(GROUPS)}
    for applicant_list in ("general", "graduate"):
        ranked = sorted((r for r in rows if r.applicant_list == applicant_list), key=lambda r: r.rank)
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
        assert [r.bucket for r in ranked] == sorted((r.bucket for r in ranked), key=place.__getitem__)
        for group in GROUPS:
            in_group = [r for r in ranked if r.bucket == group]
            assert [r.ticket for r in in_group] == sorted(r.ticket for r in in_group)
            assert [r.bucket_rank for r in in_group] == list(range(1, len(in_group) + 1))


def test_another_group_order_puts_other_groups_first():
    given = [
        lottery.Entry("R3-00001", "graduate", "postgraduate"),
        lottery.Entry("R3-00002", "graduate", "out_of_town"),
        lottery.Entry("R3-00003", "graduate", "technician"),
        lottery.Entry("R3-00004", "graduate", "no_such_group"),  # unknown groups come last
    ]
    a = order(lottery.draw(public_seed=SEED, round_id=3, entries=given, buckets=GROUPS))
    b = order(
        lottery.draw(public_seed=SEED, round_id=3, entries=given, buckets=["technician", "postgraduate", "other"])
    )
    assert a == ["R3-00002", "R3-00001", "R3-00003", "R3-00004"]
    assert b[:2] == ["R3-00003", "R3-00001"]
    assert b[-1] == "R3-00004"


def test_a_lottery_only_round_puts_everyone_in_one_group(db, district_1):
    project = make_project(district_1)
    round = make_round(project, method=AllocationMethod.LOTTERY)
    assert round.buckets == [PriorityBucket.OTHER]
    given = [lottery.Entry(f"R3-{n:05d}", "graduate", "other") for n in range(1, 11)]
    rows = lottery.draw(public_seed=SEED, round_id=3, entries=given, buckets=round.buckets)
    by_rank = sorted(rows, key=lambda r: r.rank)
    assert [r.ticket for r in by_rank] == sorted(r.ticket for r in rows)  # the ticket alone decides
    assert [r.bucket_rank for r in by_rank] == [r.rank for r in by_rank]


# --- a drawn round, checked from its published input --------------------------------------------


@pytest.fixture
def drawn(clock, district_1, staff_1, django_capture_on_commit_callbacks):
    """An affordable-rental round with two lists and several groups, drawn through the
    services: recent and older graduates, from Luoyang and from outside."""
    project = make_project(
        district_1, kind=ProjectKind.AFFORDABLE_RENTAL, name="洛龙保障性租赁住房", types=(("一室", "45", "800", 4),)
    )
    round = make_round(project)
    today = clock.today
    people = [
        {"hukou_city": "郑州市", "graduation_date": today - dt.timedelta(days=200)},
        {"hukou_city": "洛阳市", "graduation_date": today - dt.timedelta(days=300)},
        {
            "hukou_city": "洛阳市",
            "education_level": EducationLevel.MASTER,
            "graduation_date": today - dt.timedelta(days=100),
        },
        {
            "hukou_city": "洛阳市",
            "education_level": EducationLevel.TECHNICIAN,
            "graduation_date": today - dt.timedelta(days=400),
        },
        {"hukou_city": "洛阳市", "graduation_date": today - dt.timedelta(days=365 * 6)},
        {"hukou_city": "开封市", "graduation_date": today - dt.timedelta(days=365 * 5)},
        {
            "hukou_city": "洛阳市",
            "education_level": EducationLevel.JUNIOR_COLLEGE,
            "graduation_date": today - dt.timedelta(days=365 * 8),
        },
    ] * 2
    apps = [housing_apply(make_housing_graduate(district=district_1, **p), round) for p in people]
    for app in apps:
        services.housing_application_approve(application=app, actor=staff_1)
    clock.set(today + dt.timedelta(days=8))
    services.round_publish_seed(round=round, actor=staff_1, public_seed=SEED, source="福彩双色球 2026138 期")
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN
    return round


def stored(round) -> dict[str, tuple[str, int, int]]:
    return {
        app.reference: (app.applicant_list, app.rank, app.bucket_rank)
        for app in HousingApplication.objects.filter(round=round)
    }


@pytest.mark.django_db
def test_the_published_draw_input_reproduces_the_stored_ranks(drawn):
    published = json.loads(json.dumps(selectors.round_draw_input(round=drawn)))  # as downloaded
    assert published["public_value"] == SEED
    assert published["groups"] == drawn.buckets
    assert {e["list"] for e in published["entries"]} == {ApplicantList.GRADUATE, ApplicantList.GENERAL}
    assert len({e["group"] for e in published["entries"]}) >= 4
    assert "name" not in json.dumps(published)  # numbers, lists and groups only

    # An outsider: only the public value, the round number and the published entries.
    rows = lottery.draw(
        public_seed=published["public_value"],
        round_id=published["round"],
        entries=[lottery.Entry(e["reference"], e["list"], e["group"]) for e in reversed(published["entries"])],
        buckets=published["groups"],
    )
    assert ranks(rows) == stored(drawn)
    assert {r.reference: r.ticket for r in rows} == {e["reference"]: e["ticket"] for e in published["entries"]}
    assert {e["reference"]: (e["list"], e["rank"], e["group_rank"]) for e in published["entries"]} == stored(drawn)


@pytest.mark.django_db
def test_the_command_line_prints_the_stored_ranks(drawn, tmp_path):
    published = selectors.round_draw_input(round=drawn)
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(published, ensure_ascii=False), encoding="utf-8")

    # A bare interpreter: no Django settings, the module runs on its own.
    out = subprocess.run(
        [sys.executable, "-m", "apartments.lottery", published["public_value"], str(drawn.pk), str(path)],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    printed = {}
    for line in out.splitlines():
        applicant_list, rank, group, group_rank, reference, ticket = line.split("\t")
        printed[reference] = (applicant_list, int(rank), int(group_rank))
        assert len(ticket) == 64
    assert printed == stored(drawn)
    assert len(printed) == 14


def test_the_command_line_explains_itself_when_called_wrongly():
    done = subprocess.run(
        [sys.executable, "-m", "apartments.lottery"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "python -m apartments.lottery" in done.stdout
