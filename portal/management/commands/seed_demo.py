"""Demo data for the embedded setup: one account per role. Idempotent: running it again
changes nothing and prints the same logins."""

import datetime as dt
import importlib
import os

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal import services
from portal.constants import EducationLevel, Industry, OrganisationKind, OrganisationSize, Role
from portal.models import District, Organisation, User
from portal.validators import credit_code_check_char, id_check_digit

DEMO_PASSWORD = "demo-pass-2026"  # noqa: S105 -- printed on purpose: demo data only


def demo_id_number(region: str, born: str, seq: str) -> str:
    first17 = region + born + seq
    return first17 + id_check_digit(first17)


class Command(BaseCommand):
    help = "Load demo accounts (graduate, employer, staff of two districts, city staff). Safe to run twice."

    @transaction.atomic
    def handle(self, *args, **options):
        luolong = District.objects.get(code="luolong")
        jianxi = District.objects.get(code="jianxi")
        accounts = [
            ("graduate@example.com", "+8613800000001", Role.GRADUATE, []),
            ("employer@example.com", "+8613800000002", Role.EMPLOYER, []),
            ("luolong.staff@example.com", "+8613800000003", Role.DISTRICT_STAFF, [luolong]),
            ("jianxi.staff@example.com", "+8613800000004", Role.DISTRICT_STAFF, [jianxi]),
            ("city.staff@example.com", "+8613800000005", Role.CITY_STAFF, []),
        ]
        users = {}
        for email, phone, role, districts in accounts:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=DEMO_PASSWORD, phone=phone, phone_verified=True)
            if role in (Role.DISTRICT_STAFF, Role.CITY_STAFF):
                services.staff_role_set(user=user, role=role, districts=districts)
            elif user.role != role:
                user.role = role
                user.save(update_fields=["role"])
            from allauth.account.models import EmailAddress

            EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
            users[role] = user

        graduate = users[Role.GRADUATE]
        profile = services.profile_get_or_create(user=graduate)
        if not profile.has_id_number:
            services.profile_update(
                user=graduate,
                id_number=demo_id_number("410102", "20010615", "123"),
                data={
                    "real_name": "张青",
                    "phone": "13800000001",
                    "education_level": EducationLevel.BACHELOR,
                    "school": "郑州大学",
                    "major": "软件工程",
                    "graduation_date": dt.date(2025, 6, 30),
                    "hukou_province": "河南省",
                    "hukou_city": "郑州市",
                    "district": luolong,
                },
            )
            services.consent_give(user=graduate)

        code = "91410300MA44XQ2X3" + credit_code_check_char("91410300MA44XQ2X3")
        if not Organisation.objects.filter(credit_code=code).exists():
            services.organisation_register(
                user=users[Role.EMPLOYER],
                data={
                    "name": "洛阳示范轴承科技有限公司",
                    "credit_code": code,
                    "kind": OrganisationKind.PRIVATE,
                    "district": luolong,
                    "industry": Industry.BEARINGS,
                    "size": OrganisationSize.MEDIUM,
                    "address": "洛阳市洛龙区开元大道 1 号",
                    "contact_name": "李经理",
                    "contact_phone": "0379-60000000",
                    "contact_email": "employer@example.com",
                },
            )

        # Each programme app may add its own demo rows in ``<app>/demo.py`` (the core does not
        # import the programme apps by name).
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.seed(users={str(role): user for role, user in users.items()})

        # `make run` passes the port it serves on (PORT=8001 make run).
        site = f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
        self.stdout.write(self.style.SUCCESS(f"Demo data ready. Sign in at {site}/accounts/login/"))
        self.stdout.write(f"All demo accounts use the password: {DEMO_PASSWORD}")
        for email, phone, role, districts in accounts:
            where = f" ({', '.join(d.name for d in districts)})" if districts else ""
            self.stdout.write(f"  {Role(role).label:<16} {email:<28} {phone}{where}")
        self.stdout.write(f"Staff open {site}/admin/ with the same accounts.")
