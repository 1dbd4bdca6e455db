from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = _("Jobs and internships")

    def ready(self) -> None:
        # Register the notification kinds and the position and application workflows.
        from jobs import notifications, privacy, services  # noqa: F401
