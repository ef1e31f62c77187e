"""Every write of the tickets app, one module per area; import them from here.

- `events`: the ticket lock, the one writer of ticket events, firing a transition;
- `lifecycle`: one action per transition of `tickets.transitions`, and "no service case";
- `departments`: requests to specialist departments;
- `replies`: drafting, review (four eyes), retry, hand-posted confirmation;
- `clocks`: SLA clocks and breaches; `sweep`: the periodic sweeps (SLA, Wiedervorlage,
  auto-close);
- `notes`: internal notes and links; `notifications`: in-app messages and e-mails;
- `moderation`: hiding posts and blocking authors on the platform;
- `customers`: the tickets' part of merging customers; `policies`: SLA targets;
- `knowledge`: the desk's side of the information centre (proposals and their
  notifications, insertions into drafts, articles from answers, topics' articles, expiry).

The intake of mentions (`tickets.intake`), polling (`tickets.polling`) and delivery of
replies (`tickets.outbox`) are actions too, in their own modules. Each action owns its
transaction and its locks (ticket before clocks and replies), writes an event for what it
changed and enqueues side effects on commit. `actor=None` is the system.
"""

from collections.abc import Callable

from tickets.actions.clocks import (
    cancel_running_clocks,
    current_policy,
    refresh_sla_due,
    start_clock,
    stop_clock,
    stop_response_clocks,
)
from tickets.actions.customers import merge_customers, undo_merge
from tickets.actions.departments import (
    answer_department_request,
    ask_department,
    withdraw_department_request,
)
from tickets.actions.events import (
    available_transitions,
    ensure_may_perform,
    fire_transition,
    lock_ticket,
    record_event,
    record_transition,
    write_events,
)
from tickets.actions.knowledge import (
    accept_article_proposal,
    article_from_answer,
    flag_expired_articles,
    insert_into_draft,
    propose_article_change,
    propose_new_article,
    reject_article_proposal,
    set_article_topics,
)
from tickets.actions.lifecycle import (
    assign_to_support,
    close_no_response,
    customer_replied,
    dismiss_ticket,
    dismiss_tickets,
    mark_no_service_case,
    mark_unsolvable,
    reassign_ticket,
    release_ticket,
    reopen_ticket,
    request_private_data,
    resolve_ticket,
    return_to_cm,
    schedule_resubmission,
    take_ticket,
)
from tickets.actions.moderation import (
    BlockNeedsReminder,
    ModerationFailed,
    ModerationNotSupported,
    block_author,
    hide_mention,
    netiquette_reminder_for,
)
from tickets.actions.notes import add_note, link_tickets
from tickets.actions.notifications import (
    mark_all_notifications_read,
    mark_notification_read,
    notify,
    notify_new_mentions,
    send_pending_notification_emails,
    users_in_group,
)
from tickets.actions.policies import update_sla_policy
from tickets.actions.replies import (
    approve_reply,
    confirm_reply_posted,
    create_reply,
    edit_reply,
    is_posted_by_hand,
    lock_reply,
    reject_reply,
    retry_reply,
    submit_reply,
)
from tickets.actions.routing import (
    presence_changed,
    return_untaken,
    route_waiting,
    routing_sweep,
)
from tickets.actions.sweep import (
    SLA_SWEEP_BATCH_SIZE,
    close_unanswered_private_requests,
    enforce_sla,
    fire_due_resubmissions,
    record_sla_breaches,
    record_sla_warnings,
    run_sweeps,
)
from tickets.models import Ticket
from tickets.reply_context import render_template_text

# The action of each human transition of tickets.transitions, by its name; it takes the
# ticket, `actor=` and the transition's arguments (a test checks the two tables agree).
TRANSITION_ACTIONS: dict[str, Callable[..., Ticket]] = {
    "assign_to_support": assign_to_support,
    "return_to_cm": return_to_cm,
    "take": take_ticket,
    "release": release_ticket,
    "request_private_data": request_private_data,
    "ask_department": ask_department,
    "withdraw_department_request": withdraw_department_request,
    "close_no_response": close_no_response,
    "schedule_resubmission": schedule_resubmission,
    "resolve": resolve_ticket,
    "mark_unsolvable": mark_unsolvable,
    "dismiss": dismiss_ticket,
    "reopen": reopen_ticket,
}

__all__ = [
    "presence_changed",
    "return_untaken",
    "route_waiting",
    "routing_sweep",
    "SLA_SWEEP_BATCH_SIZE",
    "accept_article_proposal",
    "article_from_answer",
    "flag_expired_articles",
    "insert_into_draft",
    "propose_article_change",
    "propose_new_article",
    "reject_article_proposal",
    "set_article_topics",
    "TRANSITION_ACTIONS",
    "BlockNeedsReminder",
    "ModerationFailed",
    "ModerationNotSupported",
    "add_note",
    "answer_department_request",
    "approve_reply",
    "ask_department",
    "assign_to_support",
    "available_transitions",
    "block_author",
    "cancel_running_clocks",
    "close_no_response",
    "close_unanswered_private_requests",
    "confirm_reply_posted",
    "create_reply",
    "current_policy",
    "customer_replied",
    "dismiss_ticket",
    "dismiss_tickets",
    "edit_reply",
    "enforce_sla",
    "ensure_may_perform",
    "fire_due_resubmissions",
    "fire_transition",
    "hide_mention",
    "is_posted_by_hand",
    "link_tickets",
    "lock_reply",
    "lock_ticket",
    "mark_all_notifications_read",
    "mark_no_service_case",
    "mark_notification_read",
    "mark_unsolvable",
    "merge_customers",
    "netiquette_reminder_for",
    "notify",
    "notify_new_mentions",
    "reassign_ticket",
    "record_event",
    "record_sla_breaches",
    "record_sla_warnings",
    "record_transition",
    "refresh_sla_due",
    "reject_reply",
    "release_ticket",
    "render_template_text",
    "reopen_ticket",
    "request_private_data",
    "resolve_ticket",
    "retry_reply",
    "return_to_cm",
    "run_sweeps",
    "schedule_resubmission",
    "send_pending_notification_emails",
    "start_clock",
    "stop_clock",
    "stop_response_clocks",
    "submit_reply",
    "take_ticket",
    "undo_merge",
    "update_sla_policy",
    "users_in_group",
    "withdraw_department_request",
    "write_events",
]
