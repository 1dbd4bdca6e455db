from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Jobs and internships")

    def ready(self) -> None:
        # Register the notification kinds and the position and application workflows.
        # The jobs section of "My applications" (portal.dashboard).
        from jobs import dashboard, notifications, privacy, services  # noqa: F401
        from portal.dashboard import register_section

        register_section("jobs", 10, dashboard.section)
