from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.constants import Channel, DeliveryStatus


class Notification(models.Model):
    """One message to one user, shown in the in-app inbox; e-mail and SMS copies are
    ``Delivery`` rows."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    # The values the message was written from; attachment builders (e.g. an .ics) read them.
    context = models.JSONField(default=dict, blank=True, editable=False)
    # Set for fan-out messages: a redelivered batch task finds its rows and adds none.
    key = models.CharField(max_length=80, null=True, blank=True, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notif_user_created"),
            models.Index(fields=["user"], condition=models.Q(read_at__isnull=True), name="notif_user_unread"),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """Delivery of a notification on one channel. ``key`` is unique, so a task that runs
    twice finds the row already sent and sends nothing."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    key = models.CharField(_("delivery key"), max_length=80, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return self.key


class NotificationPreference(models.Model):
    """Which channels a user wants besides the in-app inbox (always on)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preference",
        verbose_name=_("user"),
    )
    email = models.BooleanField(_("by e-mail"), default=True)
    sms = models.BooleanField(_("by SMS"), default=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")

    def __str__(self) -> str:
        return str(self.user)

    def allows(self, channel: str) -> bool:
        return {Channel.IN_APP: True, Channel.EMAIL: self.email, Channel.SMS: self.sms}.get(channel, False)
