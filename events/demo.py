"""Demo events for ``manage.py seed_demo`` (idempotent)."""

import datetime as dt

from django.utils import timezone

from events import services
from events.constants import EventKind, VenueKind
from events.models import Event, Venue
from portal.models import District


def seed(*, users: dict) -> None:
    city = users.get("city_staff")
    if city is None or Event.objects.exists():
        return
    luolong = District.objects.get(code="luolong")
    home, _ = Venue.objects.get_or_create(
        name="洛龙区青年之家（开元湖街道）",
        defaults={
            "district": luolong,
            "kind": VenueKind.YOUTH_HOME,
            "address": "洛阳市洛龙区开元大道 200 号",
            "capacity": 80,
        },
    )
    study, _ = Venue.objects.get_or_create(
        name="河洛书苑城市书房（洛龙店）",
        defaults={
            "district": luolong,
            "kind": VenueKind.STUDY_ROOM,
            "address": "洛阳市洛龙区古城路 18 号",
            "capacity": 30,
        },
    )
    now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    plans = [
        (EventKind.SALON, "城市书房读书夜：《洛阳伽蓝记》", study, 20, 3, False, 0),
        (EventKind.FORUM, "青年人才发展论坛", home, 60, 10, False, 0),
        (EventKind.VOLUNTEER, "“爱古都·爱洛阳”志愿服务", home, 30, 6, False, 4),
        (EventKind.SOCIAL, "青年联谊会", home, 40, 14, True, 0),
    ]
    for kind, title, venue, capacity, days, approval, hours in plans:
        starts = (now + dt.timedelta(days=days)).replace(hour=19)  # 19:00 local time
        event = services.event_create(
            actor=city,
            data={
                "kind": kind,
                "title": title,
                "description": "欢迎来洛青年参加。活动免费，请提前报名。",
                "district": luolong,
                "venue": venue,
                "starts_at": starts,
                "ends_at": starts + dt.timedelta(hours=2),
                "capacity": capacity,
                "registration_opens": now - dt.timedelta(days=1),
                "registration_closes": starts - dt.timedelta(hours=2),
                "min_age": 18,
                "max_age": 35,
                "graduates_only": kind == EventKind.SOCIAL,
                "requires_approval": approval,
                "questions": [{"label": "您的专业", "type": "text", "required": False}],
                "volunteer_hours": hours,
            },
        )
        services.event_publish(event=event, actor=city)
