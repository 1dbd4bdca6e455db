"""notify(): the in-app message at once, one delivery per allowed channel after commit,
idempotent and retried delivery tasks, preferences, batched fan-out and the user's language."""

import pytest
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy

from portal import services, sms, tasks
from portal.constants import Channel, DeliveryStatus
from portal.models import Delivery, Notification
from portal.notifications import KINDS, NotificationKind
from portal.services import notifications as notifications_service
from portal.sms import SmsError
from tests.portal.factories import UserFactory

pytestmark = pytest.mark.django_db

FAILING_SMS = "tests.portal.test_notifications.FailingSmsBackend"
FLAKY_SMS = "tests.portal.test_notifications.FlakySmsBackend"


class FailingSmsBackend(sms.BaseSmsBackend):
    """A gateway that is always down."""

    def send(self, *, phone: str, message: str) -> None:
        raise SmsError("gateway down")


class FlakySmsBackend(sms.BaseSmsBackend):
    """A gateway that fails ``failures`` times, then delivers to the locmem outbox."""

    failures = 0

    def send(self, *, phone: str, message: str) -> None:
        if FlakySmsBackend.failures > 0:
            FlakySmsBackend.failures -= 1
            raise SmsError("timeout")
        sms.outbox.append({"to": phone, "message": message})


def verified(user, organisation="洛阳轴承有限公司"):
    return services.notify(user=user, kind="organisation_verified", context={"organisation": organisation})


def rendered(kind, language, **context):
    """Title and body of ``kind`` as the user reading ``language`` should see them."""
    with translation.override(language):
        return str(KINDS[kind].title).format(**context), str(KINDS[kind].body).format(**context)


def channels_of(notification):
    return sorted(notification.deliveries.values_list("channel", flat=True))


@pytest.fixture
def retry_countdowns(monkeypatch):
    """Record the countdown of every retry the delivery task asks for."""
    task_class = tasks.deliver_notification.__class__
    original = task_class.retry
    countdowns = []

    def spy(self, *args, **kwargs):
        countdowns.append(kwargs.get("countdown"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(task_class, "retry", spy)
    return countdowns


# --- notify(): the inbox now, deliveries after commit -----------------------------------


def test_notify_writes_the_in_app_message_at_once_and_sends_only_after_commit(
    django_capture_on_commit_callbacks, mailoutbox
):
    user = UserFactory(email="li@example.com", phone="+8613912345678")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = verified(user)

        stored = Notification.objects.get(pk=notification.pk)
        assert stored.user == user
        assert stored.kind == "organisation_verified"
        assert (stored.title, stored.body) == rendered(
            "organisation_verified", user.language, organisation="洛阳轴承有限公司"
        )
        assert "洛阳轴承有限公司" in stored.title
        assert stored.read_at is None
        assert channels_of(stored) == [Channel.EMAIL, Channel.SMS]
        assert set(stored.deliveries.values_list("status", flat=True)) == {DeliveryStatus.QUEUED}
        assert sorted(stored.deliveries.values_list("key", flat=True)) == [
            f"{stored.pk}:email",
            f"{stored.pk}:sms",
        ]

    # One task per delivery waits for the commit; nothing went out before it.
    assert len(callbacks) == 2
    assert mailoutbox == []
    assert sms.outbox == []


def test_deliveries_go_out_on_commit(django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory(email="li@example.com", phone="+8613912345678")

    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(
            user=user, kind="organisation_verified", context={"organisation": "洛阳轴承"}, link="/organisations/"
        )

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["li@example.com"]
    assert mail.subject == notification.title
    assert notification.body in mail.body
    assert mail.body.endswith("/organisations/")

    assert len(sms.outbox) == 1
    assert sms.outbox[0]["to"] == "+8613912345678"
    assert sms.outbox[0]["message"] == f"【洛阳青年】{notification.title}。{notification.body}"

    for delivery in notification.deliveries.all():
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 1
        assert delivery.sent_at is not None
        assert delivery.last_error == ""


def test_notify_inside_a_rolled_back_transaction_sends_nothing(django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory()

    class Abort(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abort), transaction.atomic():
        verified(user)
        raise Abort

    assert callbacks == []
    assert mailoutbox == []
    assert sms.outbox == []
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_link_can_come_from_the_context(django_capture_on_commit_callbacks):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        notification = services.notify(
            user=user, kind="announcement", context={"title": "T", "body": "B", "link": "/events/1/"}
        )

    assert notification.link == "/events/1/"


def test_unknown_kind_is_refused_and_writes_nothing():
    user = UserFactory()

    with pytest.raises(ValueError, match="no_such_kind"):
        services.notify(user=user, kind="no_such_kind", context={})

    assert not Notification.objects.exists()


# --- which channels ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "context", "expected"),
    [
        ("organisation_verified", {"organisation": "X"}, [Channel.EMAIL, Channel.SMS]),
        ("announcement", {"title": "T", "body": "B"}, [Channel.EMAIL]),
        ("organisation_submitted", {"organisation": "X", "district": "洛龙区"}, []),
    ],
)
def test_deliveries_follow_the_channels_of_the_kind(django_capture_on_commit_callbacks, kind, context, expected):
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notification = services.notify(user=user, kind=kind, context=context)

    assert channels_of(notification) == expected
    assert len(callbacks) == len(expected)
    # The in-app copy exists whatever the channels.
    assert Notification.objects.filter(user=user, kind=kind).count() == 1


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ({"email": None}, [Channel.SMS]),
        ({"phone": None}, [Channel.EMAIL]),
        ({"email": None, "phone": None}, []),
    ],
)
def test_no_delivery_on_a_channel_without_an_address(django_capture_on_commit_callbacks, mailoutbox, contact, expected):
    user = UserFactory(**contact)

    with django_capture_on_commit_callbacks(execute=True):
        notification = verified(user)

    assert channels_of(notification) == expected
    assert len(mailoutbox) == (Channel.EMAIL in expected)
    assert len(sms.outbox) == (Channel.SMS in expected)


@pytest.mark.parametrize(
    ("email", "sms_on", "expected"),
    [
        (True, True, [Channel.EMAIL, Channel.SMS]),
        (True, False, [Channel.EMAIL]),
        (False, True, [Channel.SMS]),
        (False, False, []),
    ],
)
def test_deliveries_honour_the_users_preferences(
    django_capture_on_commit_callbacks, mailoutbox, email, sms_on, expected
):
    user = UserFactory()
    services.notification_preference_update(user=user, email=email, sms=sms_on)

    with django_capture_on_commit_callbacks(execute=True):
        notification = verified(user)

    assert channels_of(notification) == expected
    assert len(mailoutbox) == int(email)
    assert len(sms.outbox) == int(sms_on)
    # Preferences never hide the in-app copy.
    assert Notification.objects.filter(user=user).count() == 1


def test_sms_switched_off_means_no_sms_delivery_row_at_all(django_capture_on_commit_callbacks):
    user = UserFactory()
    services.notification_preference_update(user=user, email=True, sms=False)

    with django_capture_on_commit_callbacks(execute=True):
        verified(user)

    assert not Delivery.objects.filter(channel=Channel.SMS).exists()
    assert sms.outbox == []


def test_preference_update_is_one_row_per_user():
    user = UserFactory()

    services.notification_preference_update(user=user, email=False, sms=True)
    pref = services.notification_preference_update(user=user, email=True, sms=False)

    assert user.notification_preference == pref
    assert (pref.email, pref.sms) == (True, False)
    assert pref.allows(Channel.IN_APP)
    assert pref.allows(Channel.EMAIL)
    assert not pref.allows(Channel.SMS)


# --- idempotent delivery --------------------------------------------------------------------


def queued_delivery(user, channel):
    """A notification whose deliveries were written but whose tasks never ran."""
    notification = verified(user)  # no capture fixture: the on-commit callbacks are dropped
    return notification.deliveries.get(channel=channel)


def test_running_the_delivery_task_twice_sends_once(mailoutbox):
    user = UserFactory()
    delivery = queued_delivery(user, Channel.EMAIL)

    tasks.deliver_notification.apply(args=[delivery.pk])
    tasks.deliver_notification.apply(args=[delivery.pk])

    assert len(mailoutbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 1


def test_delivery_send_twice_sends_one_sms():
    user = UserFactory()
    delivery = queued_delivery(user, Channel.SMS)

    first = services.delivery_send(delivery_id=delivery.pk)
    first_sent_at = first.sent_at
    second = services.delivery_send(delivery_id=delivery.pk)

    assert len(sms.outbox) == 1
    assert second.status == DeliveryStatus.SENT
    assert second.attempts == 1
    assert second.sent_at == first_sent_at


def test_a_failed_delivery_is_not_sent_again(mailoutbox):
    user = UserFactory()
    delivery = queued_delivery(user, Channel.EMAIL)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)

    tasks.deliver_notification.apply(args=[delivery.pk])

    assert mailoutbox == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 0


# --- failures, retries and backoff ---------------------------------------------------------


def test_a_failing_sms_backend_records_the_attempt_and_the_error(settings):
    settings.SMS_BACKEND = FAILING_SMS
    user = UserFactory()
    delivery = queued_delivery(user, Channel.SMS)

    with pytest.raises(notifications_service.DeliveryError, match="gateway down"):
        services.delivery_send(delivery_id=delivery.pk)
    with pytest.raises(notifications_service.DeliveryError):
        services.delivery_send(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED  # still to be retried
    assert delivery.attempts == 2
    assert delivery.last_error == "SmsError: gateway down"
    assert delivery.sent_at is None


def test_backoff_doubles_from_thirty_seconds_and_is_capped_at_an_hour():
    assert [tasks.backoff(n) for n in range(6)] == [30, 60, 120, 240, 480, 960]
    assert tasks.backoff(7) == 3600
    assert tasks.backoff(20) == tasks.BACKOFF_CAP_SECONDS == 3600
    values = [tasks.backoff(n) for n in range(30)]
    assert values == sorted(values)


def test_the_delivery_task_is_safe_against_lost_workers():
    task = tasks.deliver_notification
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.max_retries == tasks.MAX_RETRIES
    assert tasks.notify_batch.acks_late is True
    assert tasks.notify_batch.reject_on_worker_lost is True


def test_the_task_retries_with_exponential_backoff_then_marks_the_delivery_failed(settings, retry_countdowns):
    settings.SMS_BACKEND = FAILING_SMS
    user = UserFactory()
    delivery = queued_delivery(user, Channel.SMS)

    # Eager apply() runs every retry in turn, as a worker would after each countdown.
    tasks.deliver_notification.apply(args=[delivery.pk])

    assert retry_countdowns == [tasks.backoff(n) for n in range(tasks.MAX_RETRIES)]
    assert retry_countdowns == [30, 60, 120, 240, 480, 960]
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == tasks.MAX_RETRIES + 1
    assert delivery.last_error == "SmsError: gateway down"
    assert delivery.sent_at is None
    assert sms.outbox == []


def test_retry_countdown_follows_the_retry_number(settings, retry_countdowns):
    settings.SMS_BACKEND = FAILING_SMS
    user = UserFactory()
    delivery = queued_delivery(user, Channel.SMS)

    # A worker that received the third retry (request.retries == 3) waits backoff(3) next.
    tasks.deliver_notification.apply(args=[delivery.pk], retries=3)

    assert retry_countdowns == [tasks.backoff(n) for n in range(3, tasks.MAX_RETRIES)]
    delivery.refresh_from_db()
    assert delivery.attempts == tasks.MAX_RETRIES - 3 + 1
    assert delivery.status == DeliveryStatus.FAILED


def test_a_transient_failure_is_retried_until_it_goes_through(settings, retry_countdowns):
    settings.SMS_BACKEND = FLAKY_SMS
    FlakySmsBackend.failures = 2
    user = UserFactory()
    delivery = queued_delivery(user, Channel.SMS)

    tasks.deliver_notification.apply(args=[delivery.pk])

    assert retry_countdowns == [30, 60]
    assert len(sms.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT
    assert delivery.attempts == 3
    assert delivery.last_error == ""


def test_a_failing_sms_gateway_does_not_hold_back_the_email(settings, django_capture_on_commit_callbacks, mailoutbox):
    settings.SMS_BACKEND = FAILING_SMS
    user = UserFactory()

    with django_capture_on_commit_callbacks(execute=True):
        notification = verified(user)

    assert len(mailoutbox) == 1
    email = notification.deliveries.get(channel=Channel.EMAIL)
    sms_delivery = notification.deliveries.get(channel=Channel.SMS)
    assert email.status == DeliveryStatus.SENT
    assert sms_delivery.status == DeliveryStatus.FAILED
    assert sms_delivery.last_error == "SmsError: gateway down"


def test_mark_failed_keeps_a_sent_delivery_sent():
    user = UserFactory()
    delivery = queued_delivery(user, Channel.SMS)
    services.delivery_send(delivery_id=delivery.pk)

    services.delivery_mark_failed(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT


# --- fan-out in batches ---------------------------------------------------------------------


@pytest.fixture
def batch_calls(monkeypatch):
    """Record the batch tasks notify_many queues instead of running them."""
    calls = []
    monkeypatch.setattr(tasks.notify_batch, "delay", lambda *args: calls.append(args))
    return calls


def test_notify_many_queues_one_batch_task_per_batch_after_commit(
    monkeypatch, django_capture_on_commit_callbacks, batch_calls
):
    monkeypatch.setattr(notifications_service, "FANOUT_BATCH_SIZE", 2)
    users = UserFactory.create_batch(5)
    ids = [u.pk for u in users]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        count = services.notify_many(user_ids=ids + ids[:2], kind="announcement", context={"title": "T", "body": "B"})

    assert count == 5  # duplicates dropped
    assert len(callbacks) == 3
    assert batch_calls == []  # nothing queued before commit

    for callback in callbacks:
        callback()

    assert len(batch_calls) == 3
    batches = [call[0] for call in batch_calls]
    assert [len(b) for b in batches] == [2, 2, 1]
    assert sorted(pk for b in batches for pk in b) == sorted(ids)
    fanouts = {call[4] for call in batch_calls}
    assert len(fanouts) == 1  # one fan-out key shared by the batches
    assert all(call[1:4] == ("announcement", {"title": "T", "body": "B"}, "") for call in batch_calls)
    assert not Notification.objects.exists()


def test_notify_many_end_to_end_notifies_everyone_once(monkeypatch, django_capture_on_commit_callbacks, mailoutbox):
    monkeypatch.setattr(notifications_service, "FANOUT_BATCH_SIZE", 2)
    users = UserFactory.create_batch(5)
    inactive = UserFactory(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        services.notify_many(
            user_ids=[u.pk for u in users] + [inactive.pk],
            kind="announcement",
            context={"title": "招聘会", "body": "周六上午九点"},
            link="/events/",
        )

    notifications = Notification.objects.all()
    assert sorted(n.user_id for n in notifications) == sorted(u.pk for u in users)
    assert {n.title for n in notifications} == {"招聘会"}
    assert {n.link for n in notifications} == {"/events/"}
    assert all(n.key for n in notifications)
    assert len({n.key.split(":")[0] for n in notifications}) == 1
    assert sorted(m.to[0] for m in mailoutbox) == sorted(u.email for u in users)
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}


def test_running_a_batch_twice_creates_no_duplicates(django_capture_on_commit_callbacks, mailoutbox):
    users = UserFactory.create_batch(3)
    ids = [u.pk for u in users]
    args = [ids, "announcement", {"title": "T", "body": "B"}, "", "fanout-1"]

    with django_capture_on_commit_callbacks(execute=True):
        tasks.notify_batch.apply(args=args)
    with django_capture_on_commit_callbacks(execute=True) as second:
        tasks.notify_batch.apply(args=args)

    assert Notification.objects.count() == 3
    assert Delivery.objects.count() == 3
    assert second == []  # every delivery already sent: nothing queued again
    assert len(mailoutbox) == 3


def test_a_batch_run_again_sends_deliveries_the_first_run_left_queued(django_capture_on_commit_callbacks, mailoutbox):
    users = UserFactory.create_batch(3)
    ids = [u.pk for u in users]

    # The first run committed its rows, but its delivery tasks were never queued
    # (say the worker died right after the commit): the redelivered batch finishes the job.
    notifications_service.notify_batch_create(
        user_ids=ids, kind="organisation_verified", context={"organisation": "X"}, fanout="f2"
    )
    assert mailoutbox == [] and sms.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        notifications_service.notify_batch_create(
            user_ids=ids, kind="organisation_verified", context={"organisation": "X"}, fanout="f2"
        )

    assert Notification.objects.count() == 3
    assert Delivery.objects.count() == 6
    assert len(mailoutbox) == 3
    assert len(sms.outbox) == 3


def test_a_batch_honours_each_users_preferences(django_capture_on_commit_callbacks):
    quiet, normal = UserFactory.create_batch(2)
    services.notification_preference_update(user=quiet, email=True, sms=False)

    with django_capture_on_commit_callbacks(execute=True):
        notifications_service.notify_batch_create(
            user_ids=[quiet.pk, normal.pk], kind="organisation_verified", context={"organisation": "X"}, fanout="f3"
        )

    assert channels_of(quiet.notifications.get()) == [Channel.EMAIL]
    assert channels_of(normal.notifications.get()) == [Channel.EMAIL, Channel.SMS]


# --- the user's language ---------------------------------------------------------------------


class LanguageEcho:
    """A lazy message that shows which language was active when it was rendered."""

    def __init__(self, text):
        self.text = text

    def __str__(self):
        return f"[{translation.get_language()}] {self.text}"


@pytest.fixture
def echo_kind(monkeypatch):
    kind = NotificationKind(code="test_echo", title=LanguageEcho("Hello {name}"), body=LanguageEcho("{count} new"))
    monkeypatch.setitem(KINDS, kind.code, kind)
    return kind.code


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_notifications_are_rendered_in_the_users_language(echo_kind, language):
    user = UserFactory(language=language)

    with translation.override("zh-hans" if language == "en" else "en"):
        notification = services.notify(user=user, kind=echo_kind, context={"name": "李雷", "count": 3})
        active_after = translation.get_language()

    assert notification.title == f"[{language}] Hello 李雷"
    assert notification.body == f"[{language}] 3 new"
    # The request's own language is left as it was.
    assert active_after == ("zh-hans" if language == "en" else "en")


def test_a_user_without_a_language_gets_the_portal_default(echo_kind):
    user = UserFactory(language="")

    notification = services.notify(user=user, kind=echo_kind, context={"name": "A", "count": 1})

    assert notification.title == "[zh-hans] Hello A"


def test_fan_out_renders_each_message_in_its_users_language(echo_kind):
    english = UserFactory(language="en")
    chinese = UserFactory(language="zh-hans")

    notifications_service.notify_batch_create(
        user_ids=[english.pk, chinese.pk], kind=echo_kind, context={"name": "X", "count": 2}, fanout="f4"
    )

    assert english.notifications.get().title == "[en] Hello X"
    assert chinese.notifications.get().title == "[zh-hans] Hello X"


def test_translated_text_follows_the_users_language(monkeypatch):
    # A message Django itself ships translated, so this holds before the portal's .po exist.
    kind = NotificationKind(
        code="test_translated", title=gettext_lazy("This field is required."), body=gettext_lazy("Enter a valid value.")
    )
    monkeypatch.setitem(KINDS, kind.code, kind)
    english = UserFactory(language="en")
    chinese = UserFactory(language="zh-hans")

    en = services.notify(user=english, kind=kind.code, context={})
    zh = services.notify(user=chinese, kind=kind.code, context={})

    with translation.override("zh-hans"):
        expected_zh = translation.gettext("This field is required.")
    assert expected_zh != "This field is required."  # Django ships this one in Chinese
    assert en.title == "This field is required."
    assert zh.title == expected_zh


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_kind_renders_with_its_context(language):
    user = UserFactory(language=language)
    context = {"organisation": "洛阳轴承", "reason": "执照不清晰", "district": "洛龙区", "title": "T", "body": "B"}

    for code in ("organisation_verified", "organisation_rejected", "organisation_submitted", "announcement"):
        notification = services.notify(user=user, kind=code, context=context)
        assert (notification.title, notification.body) == rendered(code, language, **context)
        assert "{" not in notification.title and "{" not in notification.body

    rejected = user.notifications.get(kind="organisation_rejected")
    assert "洛阳轴承" in rejected.title
    assert "执照不清晰" in rejected.body


# --- reading ---------------------------------------------------------------------------------


def test_mark_read_touches_only_the_users_own_unread_messages():
    mine = UserFactory()
    other = UserFactory()
    a = verified(mine)
    b = verified(mine)
    theirs = verified(other)

    assert services.notifications_mark_read(user=mine, ids=[a.pk, theirs.pk]) == 1
    assert services.notifications_mark_read(user=mine) == 1  # only b was left
    assert services.notifications_mark_read(user=mine) == 0

    a.refresh_from_db()
    b.refresh_from_db()
    theirs.refresh_from_db()
    assert a.read_at is not None and b.read_at is not None
    assert theirs.read_at is None


def test_http_gateway_backend_posts_json_and_raises_on_errors(settings, monkeypatch):
    import json
    import urllib.error
    import urllib.request

    from portal.sms import HttpGatewaySmsBackend, SmsError

    settings.SMS_GATEWAY_URL = "https://gateway.example.invalid/send"
    settings.SMS_GATEWAY_TOKEN = "t0ken"
    sent = []

    class Answer:
        status = 202

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(request, timeout):
        sent.append((request.full_url, request.headers["Authorization"], json.loads(request.data)))
        return Answer()

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    HttpGatewaySmsBackend().send(phone="+8613800000000", message="验证码 123456")
    assert sent == [
        ("https://gateway.example.invalid/send", "Bearer t0ken", {"to": "+8613800000000", "message": "验证码 123456"})
    ]

    def down(request, timeout):
        raise urllib.error.URLError("connection refused")

    monkeypatch.setattr(urllib.request, "urlopen", down)
    with pytest.raises(SmsError):
        HttpGatewaySmsBackend().send(phone="+8613800000000", message="x")
