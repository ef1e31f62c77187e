"""Every write of the monitoring app, one module per area: channels and their settings
(`channels`), storing mentions (`mentions`, called by tickets.intake), and the bookkeeping of
polls (`polling`: leases, cursors, health). Monitoring never imports tickets: turning a
mention into a case is tickets.intake's, polling a channel tickets.polling's."""

from monitoring.actions.channels import (
    CHANNEL_SETTINGS,
    POLLING_SETTINGS,
    can_poll,
    change_channel_settings,
    create_channel,
    record_send_outcome,
    rotate_channel_secret,
)
from monitoring.actions.mentions import (
    StoredMention,
    attach_to_tickets,
    mark_hidden,
    record_revisions,
    store_mentions,
)
from monitoring.actions.polling import (
    MAX_POLL_BACKOFF_SECONDS,
    POLL_DISPATCH_BATCH_SIZE,
    POLL_LEASE_SECONDS,
    UNHEALTHY_AFTER_FAILURES,
    CursorMoved,
    PollOutcome,
    claim_poll_lease,
    dispatch_due_polls,
    finish_poll,
    leased_channel,
    lock_cursor,
    record_poll_failure,
    record_poll_success,
    resume_polling,
)

__all__ = [
    "CHANNEL_SETTINGS",
    "MAX_POLL_BACKOFF_SECONDS",
    "POLLING_SETTINGS",
    "POLL_DISPATCH_BATCH_SIZE",
    "POLL_LEASE_SECONDS",
    "UNHEALTHY_AFTER_FAILURES",
    "CursorMoved",
    "PollOutcome",
    "StoredMention",
    "attach_to_tickets",
    "can_poll",
    "change_channel_settings",
    "claim_poll_lease",
    "create_channel",
    "record_send_outcome",
    "dispatch_due_polls",
    "finish_poll",
    "leased_channel",
    "lock_cursor",
    "mark_hidden",
    "record_poll_failure",
    "record_poll_success",
    "record_revisions",
    "resume_polling",
    "rotate_channel_secret",
    "store_mentions",
]
