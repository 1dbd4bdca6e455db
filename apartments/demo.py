"""Demo youth stations, talent apartments and affordable rentals for ``manage.py seed_demo``
(idempotent: a second run finds the rows by name and changes nothing)."""

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from apartments import services
from apartments.constants import DEFAULT_PRIORITY_ORDER, ProjectKind, RoundStatus, StationKind
from apartments.models import AllocationRound, HousingProject, RoundUnitType, Station, Unit, UnitType
from portal.models import District

DEMO_STATIONS = [
    (
        "luolong",
        "洛龙区青年驿站（炎黄科技园）",
        StationKind.YOUTH_APARTMENT,
        "洛阳市洛龙区炎黄科技园人才公寓 3 号楼",
        12,
    ),
    ("jianxi", "涧西区青年驿站", StationKind.PARTNER_HOTEL, "洛阳市涧西区南昌路 18 号（合作酒店）", 6),
    ("xigong", "西工区青年驿站", StationKind.AFFORDABLE_HOUSING, "洛阳市西工区中州中路 300 号", 8),
]

# Projects: (district, name, kind, address, description, amenities, rules,
# [(type name, m², rooms, furnished, monthly rent, units)]).
TALENT_APARTMENT = (
    "luolong",
    "炎黄科技园青年人才公寓",
    ProjectKind.TALENT_APARTMENT,
    "洛阳市洛龙区炎黄科技园",
    "洛龙区第二批青年人才公寓，共 213 套，拎包入住；符合条件的青年人才最长可免租 3 年。",
    "拎包入住\n家电家具齐全\n地铁 2 号线\n园区食堂\n24 小时安保",
    "本科及以上学历或技工院校全日制预备技师（技师）可申请；入住后每年复核在洛就业或创业情况。",
    [
        ("两室一厅", "90", 2, True, "1800", 33),
        ("一室一厅", "60", 1, True, "1200", 80),
        ("单间", "45", 1, True, "900", 100),
    ],
)
AFFORDABLE_RENTAL = (
    "jianxi",
    "涧西区青年保障性租赁住房（天津路小区）",
    ProjectKind.AFFORDABLE_RENTAL,
    "洛阳市涧西区天津路 66 号",
    "小户型保障性租赁住房，不少于 40% 优先面向来洛就业创业的高校毕业生；租住享有同等公共服务权利。",
    "简约装修\n公交站 200 米\n社区卫生服务站",
    "在洛就业或创业、本人及家庭在洛无房；外地毕业生可享 1 至 3 个月免租。",
    [("两室", "65", 2, False, "1000", 40), ("一室", "50", 1, False, "800", 60)],
)


def seed(*, users: dict) -> None:
    for code, name, kind, address, beds in DEMO_STATIONS:
        Station.objects.get_or_create(
            name=name,
            defaults={
                "district": District.objects.get(code=code),
                "kind": kind,
                "address": address,
                "beds": beds,
                "contact_name": "驿站管理员",
                "contact_phone": "0379-12345678",
                "description": "免费入住，拎包即住；提供就业指导与岗位推送。",
                "house_rules": "凭身份证入住；22:30 前返回；禁止吸烟。",
            },
        )
    _seed_housing(staff=users.get("city_staff"))


def _project(spec) -> HousingProject:
    code, name, kind, address, description, amenities, rules, types = spec
    project, created = HousingProject.objects.get_or_create(
        name=name,
        defaults={
            "district": District.objects.get(code=code),
            "kind": kind,
            "address": address,
            "description": description,
            "amenities": amenities,
            "rules": rules,
            "contact_phone": "0379-65550000",
        },
    )
    if created:
        units = []
        for building, (type_name, area, rooms, furnished, rent, count) in enumerate(types, start=1):
            unit_type = UnitType.objects.create(
                project=project,
                name=type_name,
                area=Decimal(area),
                rooms=rooms,
                furnished=furnished,
                monthly_rent=Decimal(rent),
            )
            # 12 flats a floor, numbered 101, 102, ... 201, ...
            units += [
                Unit(
                    project=project,
                    unit_type=unit_type,
                    building=str(building),
                    floor=n // 12 + 1,
                    number=f"{n // 12 + 1}{n % 12 + 1:02d}",
                )
                for n in range(count)
            ]
        Unit.objects.bulk_create(units)
    return project


def _round(project, *, name, opens_at, closes_at, units: dict[str, int], staff, **fields) -> AllocationRound:
    round, created = AllocationRound.objects.get_or_create(
        project=project,
        name=name,
        defaults={
            "opens_at": opens_at,
            "closes_at": closes_at,
            "priority_order": DEFAULT_PRIORITY_ORDER,
            "created_by": staff,
            **fields,
        },
    )
    if created:
        for unit_type in project.unit_types.all():
            if units.get(unit_type.name):
                RoundUnitType.objects.create(round=round, unit_type=unit_type, units=units[unit_type.name])
        if staff is not None:
            services.round_publish(round=round, actor=staff)
        else:
            AllocationRound.objects.filter(pk=round.pk).update(status=RoundStatus.OPEN)
        round.refresh_from_db()
    return round


def _seed_housing(*, staff) -> None:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    talent = _project(TALENT_APARTMENT)
    _round(
        talent,
        name="2026年第一批",
        opens_at=now - dt.timedelta(days=1),
        closes_at=now + dt.timedelta(days=14),
        units={"两室一厅": 10, "一室一厅": 20, "单间": 30},
        staff=staff,
        move_in_on=(now + dt.timedelta(days=30)).date(),
    )
    affordable = _project(AFFORDABLE_RENTAL)
    closed = _round(
        affordable,
        name="2026年春季批",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=2),
        units={"两室": 10, "一室": 15},
        staff=staff,
        graduate_share=40,
    )
    if staff is not None and not closed.seed_published_at:
        # The window has closed: the value that will seed the draw is public before the draw.
        services.round_publish_seed(
            round=closed, actor=staff, public_seed="03 08 15 21 27 33 + 12", source="演示数据：福彩双色球开奖号码"
        )
