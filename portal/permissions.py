"""Who may see and decide what. Every view, API call and admin page asks these."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.models import Organisation, User


def staff_district_ids(user: User) -> set[int] | None:
    """District ids a staff member serves; None means all (city staff)."""
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_city_staff:
        return None
    if user.is_district_staff:
        cached = getattr(user, "_district_ids", None)
        if cached is None:
            cached = set(user.districts.values_list("pk", flat=True))
            user._district_ids = cached
        return cached
    return set()


def can_review_district(user: User, district_id: int | None) -> bool:
    ids = staff_district_ids(user)
    if ids is None:
        return True
    return district_id is not None and district_id in ids


def is_member(user: User, organisation: Organisation) -> bool:
    return user.is_authenticated and organisation.memberships.filter(user=user).exists()
