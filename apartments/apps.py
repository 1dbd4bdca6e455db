from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApartmentsConfig(AppConfig):
    name = "apartments"
    verbose_name = _("Talent apartments and youth stations")

    def ready(self) -> None:
        # Register the notification kinds and the stay workflow.
        # The station and housing sections of "My applications" (portal.dashboard).
        from apartments import dashboard, notifications, privacy, services  # noqa: F401
        from portal.dashboard import register_section

        register_section("stays", 20, dashboard.stays_section)
        register_section("housing", 30, dashboard.housing_section)
