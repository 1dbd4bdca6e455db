"""The Django admin for district and city staff: rows limited to the staff member's
districts, verification as buttons calling the shared service, CSV export, and query
counts that do not grow with the number of rows."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal import services
from portal.constants import AuditAction, OrganisationStatus
from portal.models import AuditEntry, Organisation
from tests.portal.factories import OrganisationFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db

ORG_LIST = "admin:portal_organisation_changelist"
PROFILE_LIST = "admin:portal_applicantprofile_changelist"


@pytest.fixture
def client_en(client):
    """Admin pages in English, so assertions do not depend on the state of the .po files."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def org_1(district_1):
    return OrganisationFactory(district=district_1, name="洛龙区待审核企业")


@pytest.fixture
def org_2(district_2):
    return OrganisationFactory(district=district_2, name="涧西区待审核企业")


@pytest.fixture
def profile_1(district_1):
    return ProfileFactory(district=district_1, complete=True, real_name="洛龙毕业生")


@pytest.fixture
def profile_2(district_2):
    return ProfileFactory(district=district_2, complete=True, real_name="涧西毕业生")


def _change_url(obj):
    return reverse(f"admin:portal_{obj._meta.model_name}_change", args=[obj.pk])


def _verify_url(org):
    return reverse("admin:portal_organisation_verify", args=[org.pk])


def _reject_url(org):
    return reverse("admin:portal_organisation_reject", args=[org.pk])


def _messages(response):
    return [str(m) for m in response.context["messages"]]


# --- District scoping -----------------------------------------------------------------------


def test_district_staff_see_only_their_organisations(client_en, staff_1, org_1, org_2):
    client_en.force_login(staff_1)

    response = client_en.get(reverse(ORG_LIST))

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [org_1]
    content = response.content.decode()
    assert org_1.name in content
    assert org_2.name not in content
    assert org_2.credit_code not in content


def test_district_staff_see_only_their_profiles(client_en, staff_2, profile_1, profile_2):
    client_en.force_login(staff_2)

    response = client_en.get(reverse(PROFILE_LIST))

    assert list(response.context["cl"].result_list) == [profile_2]
    assert profile_1.real_name not in response.content.decode()


def test_city_staff_see_every_district(client_en, city_staff, org_1, org_2, profile_1, profile_2):
    client_en.force_login(city_staff)

    assert set(client_en.get(reverse(ORG_LIST)).context["cl"].result_list) == {org_1, org_2}
    assert set(client_en.get(reverse(PROFILE_LIST)).context["cl"].result_list) == {profile_1, profile_2}


def test_search_and_filters_stay_inside_the_districts(client_en, staff_1, org_2, district_2):
    client_en.force_login(staff_1)

    by_name = client_en.get(reverse(ORG_LIST), {"q": org_2.name})
    by_code = client_en.get(reverse(ORG_LIST), {"q": org_2.credit_code})
    by_district = client_en.get(reverse(ORG_LIST), {"district__id__exact": district_2.pk})

    for response in (by_name, by_code, by_district):
        assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize("obj_fixture", ["org_2", "profile_2"])
def test_change_page_of_another_district_shows_nothing(client_en, staff_1, request, obj_fixture):
    """Django's admin answers an object outside the queryset like a missing one: a redirect
    to the admin index with a "doesn't exist" message, and none of the record's data."""
    obj = request.getfixturevalue(obj_fixture)
    client_en.force_login(staff_1)

    response = client_en.get(_change_url(obj))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")

    followed = client_en.get(response["Location"])
    content = followed.content.decode()
    assert any("doesn’t exist" in m for m in _messages(followed))
    assert str(obj) not in content
    assert not AuditEntry.objects.filter(action=AuditAction.PII_VIEW).exists()


def test_post_to_a_change_page_of_another_district_changes_nothing(client_en, staff_1, org_2):
    client_en.force_login(staff_1)

    response = client_en.post(_change_url(org_2), {"name": "改名"})

    assert response.status_code == 302
    org_2.refresh_from_db()
    assert org_2.name == "涧西区待审核企业"


def test_district_staff_read_but_do_not_edit_organisation_fields(client_en, staff_1, org_1):
    client_en.force_login(staff_1)

    response = client_en.get(_change_url(org_1))

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "name" not in form.fields  # every field is read-only for district staff
    assert org_1.name in response.content.decode()


@pytest.mark.parametrize("role", ["graduate_a", "employer_x"])
def test_admin_is_closed_to_non_staff(client_en, request, role, org_1):
    client_en.force_login(request.getfixturevalue(role))

    for url in (reverse(ORG_LIST), _change_url(org_1), _verify_url(org_1)):
        response = client_en.get(url)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_anonymous_is_sent_to_the_login_page(client_en, org_1):
    response = client_en.get(reverse(ORG_LIST))

    assert response.status_code == 302
    assert "/login/" in response["Location"]


# --- Decisions on the change page -------------------------------------------------------------


def test_pending_organisation_shows_the_decision_buttons(client_en, staff_1, org_1):
    client_en.force_login(staff_1)

    content = client_en.get(_change_url(org_1)).content.decode()

    assert f'href="{_verify_url(org_1)}"' in content
    assert f'href="{_reject_url(org_1)}"' in content


@pytest.mark.parametrize("trait", ["verified", "rejected"])
def test_decided_organisation_shows_no_decision_buttons(client_en, staff_1, district_1, trait):
    org = OrganisationFactory(district=district_1, **{trait: True})
    client_en.force_login(staff_1)

    content = client_en.get(_change_url(org)).content.decode()

    assert _verify_url(org) not in content
    assert _reject_url(org) not in content


def test_verify_asks_for_confirmation_first(client_en, staff_1, org_1):
    client_en.force_login(staff_1)

    response = client_en.get(_verify_url(org_1))

    assert response.status_code == 200
    assert org_1.credit_code in response.content.decode()
    org_1.refresh_from_db()
    assert org_1.status == OrganisationStatus.PENDING


def test_verify_view_verifies_and_audits(client_en, staff_1, org_1):
    client_en.force_login(staff_1)

    response = client_en.post(_verify_url(org_1), follow=True)

    assert response.redirect_chain == [(_change_url(org_1), 302)]
    assert f"{org_1.name} has been verified." in _messages(response)
    org_1.refresh_from_db()
    assert org_1.status == OrganisationStatus.VERIFIED
    assert org_1.verified_at is not None
    entry = AuditEntry.objects.get(action=AuditAction.TRANSITION)
    assert (entry.actor, entry.object_id, entry.from_status, entry.to_status) == (
        staff_1,
        str(org_1.pk),
        OrganisationStatus.PENDING,
        OrganisationStatus.VERIFIED,
    )


def _inline(response, model_name):
    return next(i for i in response.context["inline_admin_formsets"] if i.opts.model._meta.model_name == model_name)


def test_change_page_shows_the_audit_trail_and_members_read_only(client_en, staff_1, org_1):
    services.organisation_reject(organisation=org_1, actor=staff_1, reason="缺少营业执照")
    client_en.force_login(staff_1)

    response = client_en.get(_change_url(org_1))

    audit = _inline(response, "auditentry")
    assert [form.instance for form in audit.formset.forms] == list(AuditEntry.objects.filter(object_id=str(org_1.pk)))
    assert not audit.has_add_permission and not audit.has_change_permission and not audit.has_delete_permission
    assert "缺少营业执照" in response.content.decode()
    members = _inline(response, "membership")
    assert [form.instance.user for form in members.formset.forms] == [org_1.memberships.get().user]
    assert not members.has_change_permission and not members.has_delete_permission
    # District staff decide with the buttons; their page has no save buttons that save nothing.
    assert 'name="_save"' not in response.content.decode()


def test_city_staff_may_edit_members(client_en, city_staff, org_1):
    client_en.force_login(city_staff)

    response = client_en.get(_change_url(org_1))

    members = _inline(response, "membership")
    assert members.has_change_permission and members.has_add_permission
    assert 'name="_save"' in response.content.decode()
    assert not _inline(response, "auditentry").has_change_permission


def test_profile_change_page_shows_its_audit_trail(client_en, staff_1, profile_1):
    client_en.force_login(staff_1)
    client_en.get(_change_url(profile_1))

    response = client_en.get(_change_url(profile_1))

    entries = [form.instance for form in _inline(response, "auditentry").formset.forms]
    assert [e.action for e in entries] == [AuditAction.PII_VIEW, AuditAction.PII_VIEW]
    assert all(e.actor == staff_1 for e in entries)


def test_verify_twice_reports_the_error(client_en, staff_1, org_1):
    client_en.force_login(staff_1)
    client_en.post(_verify_url(org_1))

    response = client_en.post(_verify_url(org_1), follow=True)

    assert response.status_code == 200
    assert any("cannot go from" in m for m in _messages(response))
    assert AuditEntry.objects.filter(action=AuditAction.TRANSITION).count() == 1


def test_reject_view_requires_a_reason(client_en, staff_1, org_1):
    client_en.force_login(staff_1)

    response = client_en.post(_reject_url(org_1), {"reason": ""})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    org_1.refresh_from_db()
    assert org_1.status == OrganisationStatus.PENDING
    assert not AuditEntry.objects.exists()


def test_reject_view_rejects_with_the_reason(client_en, staff_1, org_1):
    client_en.force_login(staff_1)

    response = client_en.post(_reject_url(org_1), {"reason": "营业执照已过期"}, follow=True)

    assert response.redirect_chain == [(_change_url(org_1), 302)]
    assert f"{org_1.name} has been rejected." in _messages(response)
    org_1.refresh_from_db()
    assert org_1.status == OrganisationStatus.REJECTED
    assert org_1.status_reason == "营业执照已过期"
    entry = AuditEntry.objects.get(action=AuditAction.TRANSITION)
    assert (entry.actor, entry.to_status, entry.reason) == (staff_1, OrganisationStatus.REJECTED, "营业执照已过期")


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("url", [_verify_url, _reject_url])
def test_staff_of_another_district_cannot_decide(client_en, staff_2, org_1, method, url):
    client_en.force_login(staff_2)

    response = getattr(client_en, method)(url(org_1), {"reason": "不通过"} if method == "post" else {})

    assert response.status_code == 404
    org_1.refresh_from_db()
    assert org_1.status == OrganisationStatus.PENDING
    assert not AuditEntry.objects.exists()


def test_city_staff_decide_in_any_district(client_en, city_staff, org_2):
    client_en.force_login(city_staff)

    client_en.post(_verify_url(org_2))

    org_2.refresh_from_db()
    assert org_2.is_verified
    assert AuditEntry.objects.get().actor == city_staff


def test_unknown_organisation_is_404(client_en, staff_1):
    client_en.force_login(staff_1)

    assert client_en.post(_verify_url(Organisation(pk=999999))).status_code == 404


# --- CSV export --------------------------------------------------------------------------------


def _export(client, changelist, objs):
    return client.post(
        reverse(changelist), {"action": "export_csv", "index": 0, "_selected_action": [o.pk for o in objs]}
    )


def _csv_rows(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_organisation_export_is_csv_with_a_bom(client_en, staff_1, org_1, district_1):
    second = OrganisationFactory(district=district_1, verified=True)
    client_en.force_login(staff_1)

    response = _export(client_en, ORG_LIST, [org_1, second])

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = _csv_rows(response)
    assert len(header) == 8
    assert {row[0] for row in rows} == {org_1.name, second.name}
    assert {row[1] for row in rows} == {org_1.credit_code, second.credit_code}
    assert all(row[2] == district_1.name for row in rows)


def test_export_leaves_out_rows_of_other_districts(client_en, staff_1, org_1, org_2):
    client_en.force_login(staff_1)

    response = _export(client_en, ORG_LIST, [org_1, org_2])

    assert [row[0] for row in _csv_rows(response)[1:]] == [org_1.name]
    assert org_2.credit_code not in response.content.decode("utf-8-sig")


def test_profile_export_is_masked_and_audited(client_en, staff_1, profile_1):
    client_en.force_login(staff_1)

    response = _export(client_en, PROFILE_LIST, [profile_1])

    assert response["Content-Type"].startswith("text/csv")
    header, row = _csv_rows(response)
    assert row[0] == profile_1.real_name
    assert row[1] == profile_1.id_number_masked
    assert profile_1.reveal_id_number() not in response.content.decode("utf-8-sig")
    entry = AuditEntry.objects.get(action=AuditAction.EXPORT)
    assert entry.actor == staff_1
    assert entry.detail["rows"] == 1


# --- Query counts ----------------------------------------------------------------------------


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def _organisations(n, district):
    for _ in range(n):
        org = OrganisationFactory(district=district)
        org.memberships.create(user=UserFactory())


def test_organisation_changelist_queries_do_not_grow_with_rows(
    client_en, staff_1, district_1, django_assert_max_num_queries
):
    client_en.force_login(staff_1)
    url = reverse(ORG_LIST)

    _organisations(3, district_1)
    with django_assert_max_num_queries(12):
        few, response = _count_queries(client_en, url)
    assert response.context["cl"].result_count == 3

    _organisations(27, district_1)
    with django_assert_max_num_queries(12):
        many, response = _count_queries(client_en, url)
    assert response.context["cl"].result_count == 30

    assert many == few


def test_profile_changelist_queries_do_not_grow_with_rows(
    client_en, staff_1, district_1, django_assert_max_num_queries
):
    client_en.force_login(staff_1)
    url = reverse(PROFILE_LIST)

    for _ in range(3):
        ProfileFactory(district=district_1, complete=True)
    with django_assert_max_num_queries(12):
        few, response = _count_queries(client_en, url)
    assert response.context["cl"].result_count == 3

    for _ in range(27):
        ProfileFactory(district=district_1, complete=True)
    with django_assert_max_num_queries(12):
        many, response = _count_queries(client_en, url)
    assert response.context["cl"].result_count == 30

    assert many == few


def test_city_staff_changelists_query_counts_do_not_grow(client_en, city_staff, district_1, district_2):
    client_en.force_login(city_staff)
    counts = {}
    for n in (3, 30):
        while Organisation.objects.count() < n:
            OrganisationFactory(district=district_1 if Organisation.objects.count() % 2 else district_2)
        counts[n] = _count_queries(client_en, reverse(ORG_LIST))[0]

    assert counts[3] == counts[30]
