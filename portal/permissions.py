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


# --- access granted by the programmes --------------------------------------------------------
# The core decides for owners and district staff; a programme app may add who else needs a
# record for its work (the station's staff at check-in, the employer an applicant shared a
# CV with). The core never imports the programme apps: they register here at start-up.

_ID_NUMBER_READERS: list = []
_DOCUMENT_READERS: list = []


def register_id_number_reader(rule):
    """``rule(user, profile) -> bool``: may ``user`` unmask this profile's ID number (audited)?"""
    _ID_NUMBER_READERS.append(rule)
    return rule


def register_document_reader(rule):
    """``rule(user, document) -> bool``: may ``user`` open this uploaded document?"""
    _DOCUMENT_READERS.append(rule)
    return rule


def may_unmask_id_number(user, profile) -> bool:
    if not user.is_authenticated:
        return False
    if user.pk == profile.user_id:
        return True
    if user.is_portal_staff and can_review_district(user, profile.district_id):
        return True
    return any(rule(user, profile) for rule in _ID_NUMBER_READERS)


def may_read_document(user, document, owner_district_id: int | None) -> bool:
    if not user.is_authenticated:
        return False
    if document.owner_id == user.pk:
        return True
    if user.is_portal_staff and can_review_district(user, owner_district_id):
        return True
    return any(rule(user, document) for rule in _DOCUMENT_READERS)
