from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Community events")

    def ready(self) -> None:
        # Register the notification kinds and the event and registration workflows.
        from events import notifications, privacy, services  # noqa: F401
