import pytest


@pytest.mark.django_db
def test_fixtures_give_one_account_per_role(
    graduate_a, graduate_b, employer_x, employer_y, staff_1, staff_2, city_staff
):
    assert graduate_a.profile.has_id_number
    assert employer_x.organisations.get().district.code == "luolong"
    assert staff_1.is_district_staff and not staff_1.is_city_staff
    assert city_staff.is_city_staff
