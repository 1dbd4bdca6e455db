from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal core")

    def ready(self) -> None:
        from allauth.mfa.signals import authenticator_added

        # Importing the services registers the core workflows (organisation verification).
        from portal import services  # noqa: F401
        from portal.security import record_mfa_on_activation

        authenticator_added.connect(record_mfa_on_activation, dispatch_uid="portal-record-mfa-on-activation")
