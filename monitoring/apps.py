from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ACTIVE_CHANNELS = "monitoring.active_channels"  # servicedesk.lookups: slug → active channel


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("Monitoring")

    def ready(self) -> None:
        from monitoring.models import Channel
        from servicedesk import lookups

        lookups.invalidate_on(ACTIVE_CHANNELS, Channel)
