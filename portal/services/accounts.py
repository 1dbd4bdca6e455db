from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from portal.constants import Role
from portal.models import District, User


def staff_role_set(*, user: User, role: Role | str, districts: Iterable[District] = ()) -> User:
    """Make ``user`` district or city staff (or back to graduate). Staff get admin access
    (``is_staff``); district staff are limited to ``districts``."""
    role = Role(role)
    districts = list(districts)
    if role == Role.DISTRICT_STAFF and not districts:
        raise ValueError("District staff need at least one district.")
    with transaction.atomic():
        user.role = role
        user.is_staff = role in (Role.DISTRICT_STAFF, Role.CITY_STAFF)
        user.save(update_fields=["role", "is_staff"])
        user.districts.set(districts if role == Role.DISTRICT_STAFF else [])
    return user
