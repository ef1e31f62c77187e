from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

RULE_BOOK = "triage.rule_book"  # servicedesk.lookups: the active rules as the engine reads them


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = _("Triage")

    def ready(self) -> None:
        from servicedesk import lookups
        from triage.models import Rule

        lookups.invalidate_on(RULE_BOOK, Rule)
