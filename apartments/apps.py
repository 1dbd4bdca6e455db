from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApartmentsConfig(AppConfig):
    name = "apartments"
    verbose_name = _("Talent apartments and youth stations")

    def ready(self) -> None:
        # Register the notification kinds and the stay workflow.
        from apartments import notifications, privacy, services  # noqa: F401
