from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

USER_GROUPS = "servicedesk.user_groups"  # servicedesk.lookups: user id → group names


class ServicedeskConfig(AppConfig):
    name = "servicedesk"
    verbose_name = _("Service desk")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group

        from servicedesk import lookups

        lookups.invalidate_on(USER_GROUPS, Group, get_user_model().groups.through)
