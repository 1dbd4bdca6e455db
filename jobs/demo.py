"""Demo positions for ``manage.py seed_demo``: the demo employer verified, designated a
traineeship base, with published positions of every kind. Idempotent."""

import datetime as dt

from django.utils import timezone

from jobs import services
from jobs.constants import PositionKind, PositionStatus
from jobs.models import Position
from portal import services as portal_services
from portal.constants import EducationLevel, Industry, OrganisationStatus
from portal.models import District, Organisation

DEMO_POSITIONS = [
    (
        PositionKind.TRAINEESHIP,
        "机械设计见习生",
        "轴承结构设计与测试，导师一对一带教。",
        EducationLevel.BACHELOR,
        "机械工程,机械设计制造及其自动化",
        2000,
        2400,
    ),
    (
        PositionKind.JOB,
        "轴承工艺工程师",
        "负责精密轴承生产工艺优化，参与新产品试制。",
        EducationLevel.BACHELOR,
        "机械工程,材料科学与工程",
        6000,
        9000,
    ),
    (
        PositionKind.INTERNSHIP,
        "数据分析实习生",
        "Production data analysis with Python and SQL; 生产数据分析。",
        EducationLevel.JUNIOR_COLLEGE,
        "统计学,计算机科学与技术",
        2500,
        3000,
    ),
    (PositionKind.PRACTICE, "智能制造实践岗位", "参与机器人产线调试，了解智能制造全流程。", "", "", 1800, 2200),
    (
        PositionKind.JOB,
        "Software engineer (嵌入式软件工程师)",
        "Embedded software for bearing condition monitoring.",
        EducationLevel.BACHELOR,
        "软件工程,电子信息工程",
        8000,
        12000,
    ),
    (
        PositionKind.TRAINEESHIP,
        "质量管理见习生",
        "质量体系文件管理与检验数据统计。",
        EducationLevel.JUNIOR_COLLEGE,
        "",
        2000,
        2000,
    ),
]


def seed(*, users: dict) -> None:
    employer = users.get("employer")
    city = users.get("city_staff")
    org = Organisation.objects.filter(memberships__user=employer).first() if employer else None
    if org is None or city is None:
        return
    if org.status == OrganisationStatus.PENDING:
        portal_services.organisation_verify(organisation=org, actor=city)
        org.refresh_from_db()
    if not hasattr(org, "traineeship_base"):
        services.traineeship_base_designate(
            organisation=org, actor=city, description="洛阳市就业见习基地：提供机械、质量、数据岗位见习。"
        )
    if Position.objects.filter(organisation=org).exists():
        return
    district = District.objects.get(code="luolong")
    deadline = timezone.localdate() + dt.timedelta(days=60)
    for kind, title, description, education, majors, low, high in DEMO_POSITIONS:
        position = services.position_create(
            organisation=org,
            actor=employer,
            data={
                "kind": kind,
                "title": title,
                "description": description,
                "district": district,
                "industry": Industry.BEARINGS,
                "education_level": education,
                "majors": majors,
                "headcount": 2,
                "salary_min": low,
                "salary_max": high,
                "work_address": org.address,
                "deadline": deadline,
            },
        )
        services.position_submit(position=position, actor=employer)
        services.position_approve(position=position, actor=city)
    assert Position.objects.filter(organisation=org, status=PositionStatus.PUBLISHED).count() == len(DEMO_POSITIONS)
