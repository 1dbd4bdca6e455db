"""Organisation verification, the first user of the shared transition service: who may
take which step, what each step writes (audit, timestamps, notifications after commit),
and that the row lock lets exactly one of two concurrent decisions through."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import QuerySet

from portal import services, workflow
from portal.constants import AuditAction, OrganisationStatus, Role
from portal.models import AuditEntry, Notification, Organisation
from portal.services import TransitionNotAllowed
from portal.sms import outbox as sms_outbox
from tests.portal.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisation(district_1):
    return OrganisationFactory(district=district_1, name="洛阳轴承测试有限公司")


def _member(organisation):
    return organisation.memberships.get().user


def _transitions(organisation):
    return AuditEntry.objects.filter(action=AuditAction.TRANSITION, object_id=str(organisation.pk))


# --- The table of allowed steps ---------------------------------------------------------


def test_organisation_workflow_is_registered_with_its_table():
    flow = workflow.workflow_for(Organisation)

    assert sorted(flow.targets(OrganisationStatus.PENDING)) == [
        OrganisationStatus.REJECTED,
        OrganisationStatus.VERIFIED,
    ]
    assert flow.targets(OrganisationStatus.REJECTED) == [OrganisationStatus.PENDING]
    assert flow.targets(OrganisationStatus.VERIFIED) == []
    assert flow.get(OrganisationStatus.PENDING, OrganisationStatus.REJECTED).requires_reason


def test_workflow_table_matches_the_model_declaration():
    flow = workflow.workflow_for(Organisation)
    for source, targets in Organisation.ALLOWED_TRANSITIONS.items():
        assert set(flow.targets(source)) == set(targets)


def test_available_steps_depend_on_the_actor(organisation, staff_1, staff_2):
    flow = workflow.workflow_for(organisation)

    assert {t.target for t in flow.available(organisation, staff_1)} == {
        OrganisationStatus.VERIFIED,
        OrganisationStatus.REJECTED,
    }
    assert flow.available(organisation, staff_2) == []
    assert flow.available(organisation, _member(organisation)) == []


# --- Verification -----------------------------------------------------------------------


def test_staff_of_the_district_verifies(organisation, staff_1):
    entry = services.organisation_verify(organisation=organisation, actor=staff_1)

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.VERIFIED
    assert organisation.is_verified
    assert organisation.verified_at is not None
    assert (entry.actor, entry.action, entry.from_status, entry.to_status) == (
        staff_1,
        AuditAction.TRANSITION,
        OrganisationStatus.PENDING,
        OrganisationStatus.VERIFIED,
    )
    assert entry.target == organisation
    assert list(_transitions(organisation)) == [entry]


def test_the_instance_passed_in_is_updated(organisation, staff_1):
    services.organisation_verify(organisation=organisation, actor=staff_1)

    assert organisation.status == OrganisationStatus.VERIFIED
    assert organisation.verified_at is not None


def test_verification_notifies_the_members_in_app(organisation, staff_1):
    owner = _member(organisation)
    colleague = UserFactory(role=Role.EMPLOYER)
    organisation.memberships.create(user=colleague)

    services.organisation_verify(organisation=organisation, actor=staff_1)

    notified = Notification.objects.filter(kind="organisation_verified")
    assert {n.user for n in notified} == {owner, colleague}
    assert all(organisation.name in n.title for n in notified)
    assert not Notification.objects.filter(user=staff_1).exists()


def test_verification_mail_and_sms_go_out_only_after_commit(
    organisation, staff_1, mailoutbox, django_capture_on_commit_callbacks
):
    member = _member(organisation)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.organisation_verify(organisation=organisation, actor=staff_1)
    assert callbacks
    assert mailoutbox == []
    assert sms_outbox == []

    for callback in callbacks:
        callback()

    assert [m.to for m in mailoutbox] == [[member.email]]
    assert organisation.name in mailoutbox[0].subject
    assert [m["to"] for m in sms_outbox] == [member.phone]


def test_verification_mail_is_delivered(organisation, staff_1, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.organisation_verify(organisation=organisation, actor=staff_1)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [_member(organisation).email]
    delivery = Notification.objects.get(kind="organisation_verified").deliveries.get(channel="email")
    assert delivery.status == "sent"
    assert delivery.attempts == 1


def test_staff_of_another_district_may_not_verify(organisation, staff_2, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        services.organisation_verify(organisation=organisation, actor=staff_2)

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING
    assert organisation.verified_at is None
    assert not _transitions(organisation).exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("who", ["member", "graduate", "staff_without_district"])
def test_non_reviewers_may_not_verify(organisation, graduate_a, who):
    actor = {
        "member": _member(organisation),
        "graduate": graduate_a,
        "staff_without_district": UserFactory(role=Role.DISTRICT_STAFF, is_staff=True),
    }[who]

    with pytest.raises(PermissionDenied):
        services.organisation_verify(organisation=organisation, actor=actor)

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING


def test_inactive_staff_may_not_verify(organisation, staff_1):
    staff_1.is_active = False
    staff_1.save()

    with pytest.raises(PermissionDenied):
        services.organisation_verify(organisation=organisation, actor=staff_1)


def test_city_staff_verify_any_district(city_staff, district_1, district_2):
    for district in (district_1, district_2):
        organisation = OrganisationFactory(district=district)

        services.organisation_verify(organisation=organisation, actor=city_staff)

        organisation.refresh_from_db()
        assert organisation.status == OrganisationStatus.VERIFIED
        assert _transitions(organisation).get().actor == city_staff


def test_staff_serving_two_districts_verify_in_both(district_1, district_2):
    from tests.portal.factories import DistrictStaffFactory

    staff = DistrictStaffFactory(districts=[district_1, district_2])
    for district in (district_1, district_2):
        organisation = OrganisationFactory(district=district)
        services.organisation_verify(organisation=organisation, actor=staff)
        organisation.refresh_from_db()
        assert organisation.is_verified


# --- Rejection ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   "])
def test_rejection_requires_a_reason(organisation, staff_1, reason):
    with pytest.raises(ValidationError) as exc_info:
        services.organisation_reject(organisation=organisation, actor=staff_1, reason=reason)

    assert exc_info.value.code == "reason_required"
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING
    assert not _transitions(organisation).exists()


def test_rejection_records_the_reason_and_notifies(
    organisation, staff_1, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.organisation_reject(organisation=organisation, actor=staff_1, reason="  营业执照照片不清晰  ")

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.REJECTED
    assert organisation.status_reason == "营业执照照片不清晰"
    assert organisation.verified_at is None
    assert (entry.from_status, entry.to_status, entry.reason) == (
        OrganisationStatus.PENDING,
        OrganisationStatus.REJECTED,
        "营业执照照片不清晰",
    )
    notification = Notification.objects.get(user=_member(organisation))
    assert notification.kind == "organisation_rejected"
    assert "营业执照照片不清晰" in notification.body
    assert len(mailoutbox) == 1
    assert "营业执照照片不清晰" in mailoutbox[0].body


def test_staff_of_another_district_may_not_reject(organisation, staff_2):
    with pytest.raises(PermissionDenied):
        services.organisation_reject(organisation=organisation, actor=staff_2, reason="不符合条件")

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING


# --- Resubmission -----------------------------------------------------------------------------


def test_member_editing_a_rejected_organisation_sends_it_back_for_verification(district_1, staff_1):
    organisation = OrganisationFactory(district=district_1, rejected=True)
    member = _member(organisation)

    services.organisation_update(organisation=organisation, actor=member, data={"address": "洛阳市洛龙区开元大道 2 号"})

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING
    assert organisation.address == "洛阳市洛龙区开元大道 2 号"
    entry = _transitions(organisation).get()
    assert (entry.actor, entry.from_status, entry.to_status) == (
        member,
        OrganisationStatus.REJECTED,
        OrganisationStatus.PENDING,
    )
    # The reviewers of the district hear of it.
    assert Notification.objects.filter(user=staff_1, kind="organisation_submitted").count() == 1


def test_resubmitted_organisation_can_then_be_verified(district_1, staff_1):
    organisation = OrganisationFactory(district=district_1, rejected=True)
    services.organisation_update(
        organisation=organisation, actor=_member(organisation), data={"contact_name": "李经理"}
    )

    services.organisation_verify(organisation=organisation, actor=staff_1)

    organisation.refresh_from_db()
    assert organisation.is_verified
    assert organisation.status_reason == ""
    assert list(_transitions(organisation).order_by("id").values_list("from_status", "to_status")) == [
        (OrganisationStatus.REJECTED, OrganisationStatus.PENDING),
        (OrganisationStatus.PENDING, OrganisationStatus.VERIFIED),
    ]


def test_editing_a_pending_organisation_changes_no_status(organisation):
    services.organisation_update(
        organisation=organisation, actor=_member(organisation), data={"contact_name": "李经理"}
    )

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.PENDING
    assert organisation.contact_name == "李经理"
    assert not _transitions(organisation).exists()


def test_only_members_may_edit(district_1, staff_1, employer_y):
    organisation = OrganisationFactory(district=district_1, rejected=True)

    for outsider in (staff_1, employer_y):
        with pytest.raises(PermissionDenied):
            services.organisation_update(organisation=organisation, actor=outsider, data={"contact_name": "X"})

    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.REJECTED
    assert organisation.contact_name != "X"


def test_staff_cannot_move_a_rejected_organisation_back_themselves(district_1, staff_1):
    organisation = OrganisationFactory(district=district_1, rejected=True)

    with pytest.raises(PermissionDenied):
        services.transition(obj=organisation, to=OrganisationStatus.PENDING, actor=staff_1)


# --- Steps that are not in the table ----------------------------------------------------------


@pytest.mark.parametrize(
    ("trait", "target"),
    [
        ("verified", OrganisationStatus.REJECTED),
        ("verified", OrganisationStatus.PENDING),
        ("verified", OrganisationStatus.VERIFIED),
        ("rejected", OrganisationStatus.VERIFIED),
        (None, OrganisationStatus.PENDING),
    ],
)
def test_steps_outside_the_table_are_refused(district_1, staff_1, trait, target):
    organisation = OrganisationFactory(district=district_1, **({trait: True} if trait else {}))
    before = organisation.status

    with pytest.raises(TransitionNotAllowed) as exc_info:
        services.transition(obj=organisation, to=target, actor=staff_1, reason="测试")

    assert exc_info.value.code == "transition_not_allowed"
    assert isinstance(exc_info.value, ValidationError)
    organisation.refresh_from_db()
    assert organisation.status == before
    assert not _transitions(organisation).exists()


def test_verified_organisation_cannot_be_rejected(district_1, staff_1):
    organisation = OrganisationFactory(district=district_1, verified=True)

    with pytest.raises(TransitionNotAllowed):
        services.organisation_reject(organisation=organisation, actor=staff_1, reason="改主意了")

    organisation.refresh_from_db()
    assert organisation.is_verified
    assert organisation.status_reason == ""


def test_decision_on_a_stale_instance_sees_the_current_status(organisation, staff_1, staff_2, district_2):
    """The service decides from the locked row, not from the caller's copy."""
    stale = Organisation.objects.get(pk=organisation.pk)
    services.organisation_verify(organisation=organisation, actor=staff_1)

    with pytest.raises(TransitionNotAllowed):
        services.organisation_reject(organisation=stale, actor=staff_1, reason="迟到的决定")

    assert Organisation.objects.get(pk=organisation.pk).is_verified


def test_system_actor_may_take_any_allowed_step(organisation):
    entry = services.transition(obj=organisation, to=OrganisationStatus.VERIFIED, actor=None)

    assert entry.actor is None
    assert Organisation.objects.get(pk=organisation.pk).is_verified


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------


def _in_thread(target, results, key, *, started=None):
    def run():
        try:
            if started is not None:
                started.wait(timeout=10)
            results[key] = target()
        except Exception as exc:  # collected and asserted by the test
            results[key] = exc
        finally:
            connection.close()

    return threading.Thread(target=run)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_decisions_one_wins(district_1, staff_1, city_staff):
    organisation = OrganisationFactory(district=district_1)
    go = threading.Barrier(2)
    results = {}

    def decide(actor, reject):
        go.wait(timeout=10)
        if reject:
            return services.organisation_reject(
                organisation=Organisation.objects.get(pk=organisation.pk), actor=actor, reason="重复"
            )
        return services.organisation_verify(organisation=Organisation.objects.get(pk=organisation.pk), actor=actor)

    threads = [
        _in_thread(lambda: decide(staff_1, reject=False), results, "verify"),
        _in_thread(lambda: decide(city_staff, reject=True), results, "reject"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["AuditEntry", "TransitionNotAllowed"]
    winner = next(r for r in results.values() if isinstance(r, AuditEntry))
    organisation.refresh_from_db()
    assert organisation.status == winner.to_status
    assert _transitions(organisation).count() == 1


def _hold_then_race(organisation, first_actor, second_actor):
    """The first decision takes the lock and keeps its transaction open; the second starts
    while it is open. Returns both outcomes and whether the second finished before the
    first committed."""
    from django.db import transaction

    first_done = threading.Event()
    release = threading.Event()
    second_finished = threading.Event()
    results = {}

    def first():
        with transaction.atomic():
            entry = services.organisation_verify(
                organisation=Organisation.objects.get(pk=organisation.pk), actor=first_actor
            )
            first_done.set()
            release.wait(timeout=10)
        return entry

    def second():
        try:
            return services.organisation_reject(
                organisation=Organisation.objects.get(pk=organisation.pk), actor=second_actor, reason="并发"
            )
        finally:
            second_finished.set()

    t1 = _in_thread(first, results, "first")
    t2 = _in_thread(second, results, "second", started=first_done)
    t1.start()
    t2.start()
    assert first_done.wait(timeout=10)
    finished_early = second_finished.wait(timeout=1.0)
    release.set()
    t1.join(timeout=30)
    t2.join(timeout=30)
    return results, finished_early


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_second_decision_waits_for_the_row_lock_and_then_sees_the_first(district_1, staff_1, city_staff):
    organisation = OrganisationFactory(district=district_1)

    results, finished_early = _hold_then_race(organisation, staff_1, city_staff)

    assert not finished_early  # it waited for the lock
    assert isinstance(results["first"], AuditEntry)
    assert isinstance(results["second"], TransitionNotAllowed)
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.VERIFIED
    assert organisation.status_reason == ""
    assert _transitions(organisation).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_without_the_row_lock_both_decisions_would_pass(district_1, staff_1, city_staff, monkeypatch):
    """Negative control: with select_for_update() made a no-op, the same schedule lets the
    second decision overwrite the first, so the test above can see a race."""
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    organisation = OrganisationFactory(district=district_1)

    results, _finished_early = _hold_then_race(organisation, staff_1, city_staff)

    assert isinstance(results["first"], AuditEntry)
    assert isinstance(results["second"], AuditEntry)
    assert _transitions(organisation).count() == 2
    organisation.refresh_from_db()
    assert organisation.status == OrganisationStatus.REJECTED
