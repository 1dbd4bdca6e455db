from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubsidiesConfig(AppConfig):
    name = "subsidies"
    verbose_name = _("Subsidies")

    def ready(self) -> None:
        # Register the notification kinds and the application workflow; re-check open
        # applications when a fact in another app changes.
        from subsidies import notifications, privacy, services, signals  # noqa: F401

        signals.connect()

        # The subsidies section of "My applications" (portal.dashboard).
        from portal.dashboard import register_section
        from subsidies import dashboard

        register_section("subsidies", 40, dashboard.section)
