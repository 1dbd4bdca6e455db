"""Staff moderation in the admin: the district-scoped queue, approve and reject (canned
reasons, "other" needs a note) as buttons that lead to confirmation pages, bulk expiry,
CSV export, the statistics page against the plan's targets, and traineeship bases
designated through the service."""

import csv
import io

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jobs.constants import ApplicationStatus, PositionStatus, RejectionReason
from jobs.models import JobApplication, Position, TraineeshipBase
from portal.constants import AuditAction
from portal.models import AuditEntry, Notification
from tests.jobs.factories import JobApplicationFactory, PositionFactory
from tests.portal.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:jobs_position_changelist")


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def queue(org_x, org_y):
    """Pending positions in both districts, plus a published one in district 1."""
    return {
        "pending_1": PositionFactory(organisation=org_x, pending=True, title="洛龙待审岗位"),
        "pending_2": PositionFactory(organisation=org_y, pending=True, title="涧西待审岗位"),
        "published_1": PositionFactory(organisation=org_x, published=True, title="洛龙已发布岗位"),
    }


def _staff_client(client_en, user):
    client_en.force_login(user)
    return client_en


# --- The queue ------------------------------------------------------------------------------------


def test_district_staff_see_only_their_district_in_the_changelist(client_en, queue, staff_1):
    response = _staff_client(client_en, staff_1).get(CHANGELIST)

    assert response.status_code == 200
    shown = {p.pk for p in response.context["cl"].result_list}
    assert shown == {queue["pending_1"].pk, queue["published_1"].pk}


def test_the_pending_filter_is_the_moderation_queue(client_en, queue, staff_1, city_staff):
    assert [
        p.pk
        for p in _staff_client(client_en, staff_1)
        .get(CHANGELIST, {"status__exact": "pending"})
        .context["cl"]
        .result_list
    ] == [queue["pending_1"].pk]
    city = _staff_client(client_en, city_staff).get(CHANGELIST, {"status__exact": "pending"})
    assert {p.pk for p in city.context["cl"].result_list} == {queue["pending_1"].pk, queue["pending_2"].pk}


def test_the_changelist_offers_search(client_en, queue, staff_1):
    response = _staff_client(client_en, staff_1).get(CHANGELIST, {"q": "已发布"})

    assert [p.pk for p in response.context["cl"].result_list] == [queue["published_1"].pk]


def test_graduates_and_employers_do_not_reach_the_admin(client_en, queue, graduate_a, employer_x):
    for user in (graduate_a, employer_x):
        client_en.force_login(user)
        response = client_en.get(CHANGELIST)
        assert response.status_code == 302
        assert "/login/" in response["Location"]


def test_positions_are_not_added_in_the_admin(client_en, city_staff):
    # Positions come from employers through the service; the admin moderates them.
    assert _staff_client(client_en, city_staff).get(reverse("admin:jobs_position_add")).status_code == 403


def test_change_page_offers_the_decision_buttons_for_a_pending_position(client_en, queue, staff_1):
    client = _staff_client(client_en, staff_1)

    pending = client.get(reverse("admin:jobs_position_change", args=[queue["pending_1"].pk])).content.decode()
    published = client.get(reverse("admin:jobs_position_change", args=[queue["published_1"].pk])).content.decode()

    assert reverse("admin:jobs_position_approve", args=[queue["pending_1"].pk]) in pending
    assert reverse("admin:jobs_position_reject", args=[queue["pending_1"].pk]) in pending
    assert reverse("admin:jobs_position_approve", args=[queue["published_1"].pk]) not in published
    # The audit trail shows as an inline.
    assert "Audit trail" in pending
    # Every field is read-only: no save buttons that would save nothing.
    assert 'name="_save"' not in pending and 'name="_continue"' not in pending


def test_staff_of_another_district_get_404_on_the_change_page(client_en, queue, staff_2):
    response = _staff_client(client_en, staff_2).get(
        reverse("admin:jobs_position_change", args=[queue["pending_1"].pk])
    )

    assert response.status_code in (302, 404)
    if response.status_code == 302:  # Django's admin redirects to the index with "does not exist"
        assert response["Location"] == reverse("admin:index")


# --- Approve and reject ------------------------------------------------------------------------------


def test_approve_through_the_confirmation_page(client_en, queue, staff_1, employer_x):
    client = _staff_client(client_en, staff_1)
    url = reverse("admin:jobs_position_approve", args=[queue["pending_1"].pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Publish this position?" in confirm.content.decode()

    response = client.post(url, follow=True)

    position = Position.objects.get(pk=queue["pending_1"].pk)
    assert position.status == PositionStatus.PUBLISHED
    assert response.redirect_chain[-1][0] == reverse("admin:jobs_position_change", args=[position.pk])
    assert any("is published" in m for m in _messages(response))
    assert Notification.objects.filter(user=employer_x, kind="position_published").exists()
    assert AuditEntry.objects.get(object_id=str(position.pk), to_status="published").actor == staff_1


def test_reject_offers_the_canned_reasons(client_en, queue, staff_1):
    response = _staff_client(client_en, staff_1).get(
        reverse("admin:jobs_position_reject", args=[queue["pending_1"].pk])
    )

    content = response.content.decode()
    assert response.status_code == 200
    assert content.count('type="radio" name="reason_code"') == len(RejectionReason)
    assert "The requirements discriminate" in content


def test_reject_with_other_needs_a_note(client_en, queue, staff_1):
    url = reverse("admin:jobs_position_reject", args=[queue["pending_1"].pk])

    response = _staff_client(client_en, staff_1).post(url, {"reason_code": "other", "note": ""})

    assert response.status_code == 200
    assert "Please explain the reason in the note." in response.content.decode()
    assert Position.objects.get(pk=queue["pending_1"].pk).status == PositionStatus.PENDING


def test_reject_with_a_canned_reason_and_a_note(client_en, queue, staff_1, employer_x):
    url = reverse("admin:jobs_position_reject", args=[queue["pending_1"].pk])

    response = _staff_client(client_en, staff_1).post(url, {"reason_code": "fees", "note": "不得收取押金"}, follow=True)

    position = Position.objects.get(pk=queue["pending_1"].pk)
    assert (position.status, position.rejection_reason) == (PositionStatus.REJECTED, RejectionReason.FEES)
    assert "不得收取押金" in position.status_reason
    assert any("sent back to the employer" in m for m in _messages(response))
    assert "不得收取押金" in Notification.objects.get(user=employer_x, kind="position_rejected").body


def test_a_decision_on_a_position_no_longer_pending_is_a_message(client_en, queue, staff_1):
    response = _staff_client(client_en, staff_1).post(
        reverse("admin:jobs_position_approve", args=[queue["published_1"].pk]), follow=True
    )

    assert response.status_code == 200
    assert any("cannot go from" in m for m in _messages(response))


@pytest.mark.parametrize("view", ["approve", "reject"])
def test_staff_of_another_district_get_404_on_the_decision_views(client_en, queue, staff_2, view):
    client = _staff_client(client_en, staff_2)
    url = reverse(f"admin:jobs_position_{view}", args=[queue["pending_1"].pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"reason_code": "fees", "note": "x"}).status_code == 404
    assert Position.objects.get(pk=queue["pending_1"].pk).status == PositionStatus.PENDING


def test_city_staff_decide_in_every_district(client_en, queue, city_staff):
    client = _staff_client(client_en, city_staff)

    client.post(reverse("admin:jobs_position_approve", args=[queue["pending_2"].pk]))

    assert Position.objects.get(pk=queue["pending_2"].pk).status == PositionStatus.PUBLISHED


# --- Bulk actions ----------------------------------------------------------------------------------


def _action(client, action, positions):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [str(p.pk) for p in positions], "index": "0"}, follow=True
    )


def test_bulk_expire_expires_the_published_ones(client_en, queue, staff_1, org_x):
    other_published = PositionFactory(organisation=org_x, published=True)

    response = _action(
        _staff_client(client_en, staff_1),
        "expire_selected",
        [queue["published_1"], other_published, queue["pending_1"]],
    )

    statuses = dict(Position.objects.values_list("pk", "status"))
    assert statuses[queue["published_1"].pk] == statuses[other_published.pk] == PositionStatus.EXPIRED
    assert statuses[queue["pending_1"].pk] == PositionStatus.PENDING
    assert any("2 positions expired" in m for m in _messages(response))
    assert AuditEntry.objects.filter(to_status="expired", actor=staff_1).count() == 2


def test_bulk_expire_does_not_reach_another_district(client_en, org_y, staff_1):
    theirs = PositionFactory(organisation=org_y, published=True)

    _action(_staff_client(client_en, staff_1), "expire_selected", [theirs])

    assert Position.objects.get(pk=theirs.pk).status == PositionStatus.PUBLISHED


def test_csv_export(client_en, queue, staff_1):
    response = _action(_staff_client(client_en, staff_1), "export_csv", [queue["pending_1"], queue["published_1"]])

    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "title"
    assert {r[0] for r in rows[1:]} == {"洛龙待审岗位", "洛龙已发布岗位"}
    assert len(rows) == 3


# --- Statistics ---------------------------------------------------------------------------------------


def test_statistics_page_with_targets_and_bars(client_en, org_x, org_y, city_staff):
    hired_at = PositionFactory(organisation=org_x, published=True)
    PositionFactory(organisation=org_y, published=True)
    JobApplicationFactory(position=hired_at, hired=True)
    client = _staff_client(client_en, city_staff)

    response = client.get(reverse("admin:jobs_position_statistics"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "2 / 10,000" in content  # positions published this year against the plan
    assert "1 / 10,000" in content  # graduates hired against the retention target
    assert "洛龙区" in content and "涧西区" in content
    assert 'class="b-pos" style="width:100%"' in content  # each district's bar against the largest
    assert client.get(reverse("admin:jobs_position_statistics"), {"year": "abc"}).status_code == 200
    assert client.get(reverse("admin:jobs_position_statistics"), {"year": "1999"}).status_code == 200


def test_statistics_for_district_staff_cover_their_district(client_en, org_x, org_y, staff_1):
    PositionFactory(organisation=org_x, published=True)
    PositionFactory(organisation=org_y, published=True)

    response = _staff_client(client_en, staff_1).get(reverse("admin:jobs_position_statistics"))

    assert response.context["stats"].positions_total == 1
    assert "涧西区" not in response.content.decode().split("By district")[1]


def test_the_changelist_links_to_the_statistics(client_en, staff_1):
    content = _staff_client(client_en, staff_1).get(CHANGELIST).content.decode()

    assert reverse("admin:jobs_position_statistics") in content


# --- Traineeship bases ----------------------------------------------------------------------------------


def test_district_staff_designate_a_base_through_the_service(client_en, org_x, staff_1):
    client = _staff_client(client_en, staff_1)

    response = client.post(
        reverse("admin:jobs_traineeshipbase_add"),
        {"organisation": org_x.pk, "description": "机械类见习基地", "active": "on"},
        follow=True,
    )

    assert response.status_code == 200
    base = TraineeshipBase.objects.get(organisation=org_x)
    assert (base.active, base.designated_by, base.description) == (True, staff_1, "机械类见习基地")
    assert AuditEntry.objects.filter(action=AuditAction.DECISION, object_id=str(org_x.pk), actor=staff_1).exists()
    # The success message and the admin log point at the base the service wrote.
    (message,) = _messages(response)
    assert reverse("admin:jobs_traineeshipbase_change", args=[base.pk]) in message
    assert LogEntry.objects.get(user=staff_1).object_id == str(base.pk)


def test_district_staff_cannot_designate_in_another_district_or_an_unverified_organisation(
    client_en, org_y, staff_1, district_1
):
    pending = OrganisationFactory(district=district_1)
    client = _staff_client(client_en, staff_1)

    for org in (org_y, pending):
        response = client.post(reverse("admin:jobs_traineeshipbase_add"), {"organisation": org.pk, "active": "on"})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["organisation"]
    assert not TraineeshipBase.objects.exists()


def test_revoking_a_base_through_the_change_page(client_en, org_x, staff_1):
    client = _staff_client(client_en, staff_1)
    client.post(reverse("admin:jobs_traineeshipbase_add"), {"organisation": org_x.pk})
    base = TraineeshipBase.objects.get()
    assert base.active is True

    client.post(
        reverse("admin:jobs_traineeshipbase_change", args=[base.pk]), {"organisation": org_x.pk, "description": ""}
    )
    base.refresh_from_db()
    assert base.active is False
    assert AuditEntry.objects.filter(object_id=str(org_x.pk), reason="traineeship base revoked").exists()

    client.post(
        reverse("admin:jobs_traineeshipbase_change", args=[base.pk]), {"organisation": org_x.pk, "active": "on"}
    )
    base.refresh_from_db()
    assert base.active is True
    assert TraineeshipBase.objects.count() == 1


# --- Applications in the admin, and query budgets -----------------------------------------------------------


def test_job_applications_are_scoped_to_the_position_district(client_en, org_x, org_y, staff_1):
    mine = JobApplicationFactory(position__organisation=org_x)
    JobApplicationFactory(position__organisation=org_y)

    response = _staff_client(client_en, staff_1).get(reverse("admin:jobs_jobapplication_changelist"))

    assert [a.pk for a in response.context["cl"].result_list] == [mine.pk]


# Measured: session, user, the staff member's districts, the district filter's choices, two
# counts, the permission checks (2), the page, the unread count, and the date hierarchy (2).
CHANGELIST_MAX_QUERIES = 12


def test_the_moderation_changelist_queries_do_not_grow_with_the_rows(
    client_en, org_x, staff_1, django_assert_max_num_queries
):
    client = _staff_client(client_en, staff_1)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(CHANGELIST).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(3):
        PositionFactory(organisation=org_x, pending=True)
    client.get(CHANGELIST)
    few = count()
    for _ in range(27):
        PositionFactory(organisation=org_x, pending=True)
    many = count()

    assert few == many
    with django_assert_max_num_queries(CHANGELIST_MAX_QUERIES):
        response = client.get(CHANGELIST)
    assert len(response.context["cl"].result_list) == 30


def test_the_applications_changelist_queries_do_not_grow_with_the_rows(client_en, org_x, staff_1):
    client = _staff_client(client_en, staff_1)
    position = PositionFactory(organisation=org_x, published=True)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("admin:jobs_jobapplication_changelist")).status_code == 200
        return len(ctx.captured_queries)

    JobApplicationFactory.create_batch(3, position=position)
    client.get(reverse("admin:jobs_jobapplication_changelist"))
    few = count()
    JobApplicationFactory.create_batch(12, position=position, status=ApplicationStatus.VIEWED)
    assert count() == few
    assert JobApplication.objects.count() == 15


def test_a_hand_typed_autocomplete_value_is_not_a_server_error(client, city_staff):
    client.force_login(city_staff)
    assert client.get("/admin/jobs/traineeshipbase/add/?organisation=abc").status_code == 200
