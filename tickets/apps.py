from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

SLA_POLICIES = "tickets.sla_policies"  # servicedesk.lookups: (kind, department) → policy


class TicketsConfig(AppConfig):
    name = "tickets"
    verbose_name = _("Tickets")

    def ready(self) -> None:
        from servicedesk import lookups
        from tickets.models import SlaPolicy

        lookups.invalidate_on(SLA_POLICIES, SlaPolicy)
