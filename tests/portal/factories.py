import datetime as dt
import random

import factory
from django.conf import settings
from django.utils import timezone

from portal import services
from portal.constants import (
    EducationLevel,
    Industry,
    MemberRole,
    OrganisationKind,
    OrganisationSize,
    OrganisationStatus,
    Role,
)
from portal.models import ApplicantProfile, Consent, District, Membership, Notification, Organisation, User
from portal.validators import credit_code_check_char, id_check_digit

_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_id_number(born: dt.date | None = None, region: str = "410102", seq: int | None = None) -> str:
    born = born or dt.date(2000, 1, 1) + dt.timedelta(days=random.randint(0, 2500))
    seq = random.randint(0, 999) if seq is None else seq
    first17 = f"{region}{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def make_credit_code() -> str:
    first17 = "914103" + "".join(random.choice(_CREDIT_ALPHABET) for _ in range(11))
    return first17 + credit_code_check_char(first17)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.com")
    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    phone_verified = True
    role = Role.GRADUATE
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        if create and extracted:
            self.districts.set(extracted)
        if create:
            self.save()


class DistrictStaffFactory(UserFactory):
    role = Role.DISTRICT_STAFF
    is_staff = True


class CityStaffFactory(UserFactory):
    role = Role.CITY_STAFF
    is_staff = True


class ProfileFactory(factory.django.DjangoModelFactory):
    """A graduate's profile. ``complete=True`` fills every field, sets an ID number through
    the service (encrypted) and records consent."""

    class Meta:
        model = ApplicantProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    real_name = factory.Sequence(lambda n: f"测试{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    district = factory.LazyFunction(lambda: District.objects.get(code="luolong"))

    class Params:
        complete = factory.Trait(
            education_level=EducationLevel.BACHELOR,
            school="河南科技大学",
            major="机械工程",
            graduation_date=dt.date(2025, 6, 30),
            hukou_province="河南省",
            hukou_city="郑州市",
        )

    @factory.post_generation
    def id_number(self, create, extracted, **kwargs):
        if not create:
            return
        number = extracted
        if number is None and self.education_level:
            number = make_id_number()
        if number:
            services.profile_update(user=self.user, data={}, id_number=number)
            self.refresh_from_db()
        if self.education_level:
            Consent.objects.get_or_create(user=self.user, version=settings.PORTAL_CONSENT_VERSION)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"洛阳测试企业{n}有限公司")
    credit_code = factory.LazyFunction(make_credit_code)
    kind = OrganisationKind.PRIVATE
    district = factory.LazyFunction(lambda: District.objects.get(code="luolong"))
    industry = Industry.BEARINGS
    size = OrganisationSize.SMALL
    address = "洛阳市洛龙区开元大道 1 号"
    contact_name = "王经理"
    contact_phone = "0379-60000000"
    status = OrganisationStatus.PENDING

    class Params:
        verified = factory.Trait(status=OrganisationStatus.VERIFIED, verified_at=factory.LazyFunction(timezone.now))
        rejected = factory.Trait(status=OrganisationStatus.REJECTED, status_reason="信息不完整")

    @factory.post_generation
    def owner(self, create, extracted, **kwargs):
        if not create:
            return
        user = extracted or UserFactory(role=Role.EMPLOYER)
        Membership.objects.create(organisation=self, user=user, role=MemberRole.OWNER)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "announcement"
    title = factory.Sequence(lambda n: f"通知 {n}")
    body = "正文"
