"""Create the first city-staff account of a new deployment (or promote an existing user)."""

import getpass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal import services
from portal.constants import Role
from portal.models import User


class Command(BaseCommand):
    help = "Create a city-staff account (all districts, programme settings) or promote an existing user."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--phone", default="", help="Mainland mobile number, e.g. 13800000000")
        parser.add_argument("--password", default=None, help="Prompted for when omitted (recommended).")
        parser.add_argument("--superuser", action="store_true", help="Also grant every Django permission.")

    @transaction.atomic
    def handle(self, *args, email, phone, password, superuser, **options):
        from portal.validators import normalise_cn_mobile

        phone_e164 = None
        if phone:
            try:
                phone_e164 = normalise_cn_mobile(phone)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
        user = User.objects.filter(email=email).first()
        created = user is None
        if created:
            if password is None:
                password = getpass.getpass("Password: ")
            try:
                validate_password(password)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            user = User.objects.create_user(email=email, password=password, phone=phone_e164)
        services.staff_role_set(user=user, role=Role.CITY_STAFF)
        if superuser and not user.is_superuser:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        verb = "Created" if created else "Promoted"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} city staff {email}. Sign in at /admin/ and set up two-factor authentication.")
        )
