from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Community events")

    def ready(self) -> None:
        # Register the notification kinds and the event and registration workflows.
        # The events section of "My applications" (portal.dashboard).
        from events import dashboard, notifications, privacy, services  # noqa: F401
        from portal.dashboard import register_section

        register_section("events", 50, dashboard.section)
