from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal core")

    def ready(self) -> None:
        # Importing the services registers the core workflows (organisation verification).
        from portal import services  # noqa: F401
