"""Demo youth stations for ``manage.py seed_demo`` (idempotent)."""

from apartments.constants import StationKind
from apartments.models import Station
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
