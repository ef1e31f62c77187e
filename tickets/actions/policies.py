"""SLA policies: the targets clocks take their deadlines from when they start."""

import logging
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from servicedesk.errors import InvalidArgument, NotAllowedForRole
from tickets import access
from tickets.models import SlaPolicy

logger = logging.getLogger(__name__)


@transaction.atomic
def update_sla_policy(
    policy: SlaPolicy, *, actor: Any, target_seconds: int, warn_percent: int
) -> SlaPolicy:
    """Set a policy's target and warning percentage (superusers only). Clocks already
    started keep their deadlines; the change applies to clocks started after it.

    Refuses NotAllowedForRole (not a superuser) and InvalidArgument (target below 1 second,
    warning outside 1–100 %)."""
    if not access.may_change_sla_policies(actor):
        raise NotAllowedForRole(action="update_sla_policy")
    if target_seconds < 1:
        raise InvalidArgument(_("The target must be at least 1 second."), field="target_seconds")
    if not 1 <= warn_percent <= 100:
        raise InvalidArgument(
            _("The warning must lie between 1 and 100 percent."), field="warn_percent"
        )
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    policy.target_seconds = target_seconds
    policy.warn_percent = warn_percent
    policy.save(update_fields=["target_seconds", "warn_percent", "updated_at"])
    logger.info("SLA policy %s changed by user %s", policy.pk, actor.pk)
    return policy
