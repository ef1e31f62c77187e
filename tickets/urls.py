"""HTML pages of the tickets app (the browser workspace), one block per page."""

from django.urls import path

from tickets.views import (
    customer,
    dashboard,
    department,
    inbox,
    incidents,
    knowledge,
    live,
    notifications,
    queue,
    review,
    search,
    staffing,
    suggestions,
    ticket,
    topics,
    triage_quality,
    triage_ui,
)

app_name = "tickets"

urlpatterns = [
    # ---- CM inbox
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/poll/", inbox.inbox_poll, name="inbox_poll"),
    path("inbox/bulk-dismiss/", inbox.bulk_dismiss, name="inbox_bulk_dismiss"),
    # ---- triage suggestions (issue 13 §4, §5)
    path(
        "mentions/<int:mention_id>/triage/correct/",
        triage_ui.correct_suggestion,
        name="triage_correct",
    ),
    path("triage/quality/", triage_quality.triage_quality, name="triage_quality"),
    # ---- incidents (issue 14)
    path("incidents/", incidents.incident_list, name="incident_list"),
    path("incidents/banner/", incidents.incident_banner, name="incident_banner"),
    path("incidents/open/", incidents.incident_open, name="incident_open"),
    path("incidents/replay-demo/", incidents.incident_replay_demo, name="incident_replay_demo"),
    path("incidents/<int:pk>/", incidents.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/statements/", incidents.incident_statement, name="incident_statement"),
    path(
        "incidents/<int:pk>/statements/<int:statement_id>/approve/",
        incidents.incident_statement_approve,
        name="incident_statement_approve",
    ),
    path("incidents/<int:pk>/members/", incidents.incident_member_add, name="incident_member_add"),
    path(
        "incidents/<int:pk>/members/remove/",
        incidents.incident_member_remove,
        name="incident_member_remove",
    ),
    path("incidents/<int:pk>/close/", incidents.incident_close, name="incident_close"),
    # ---- support queue
    path("queue/", queue.queue, name="queue"),
    # ---- ticket view: transitions, notes, links, moderation, presence, reply composer
    path("tickets/<int:pk>/", ticket.ticket_detail, name="ticket_detail"),
    path(
        "tickets/<int:pk>/transitions/<slug:name>/",
        ticket.perform_transition,
        name="ticket_transition",
    ),
    path(
        "tickets/<int:pk>/no-service-case/",
        ticket.no_service_case,
        name="ticket_no_service_case",
    ),
    path("tickets/<int:pk>/reassign/", ticket.reassign, name="ticket_reassign"),
    path("tickets/<int:pk>/notes/", ticket.add_note_view, name="ticket_add_note"),
    path("tickets/<int:pk>/links/", ticket.link_view, name="ticket_link"),
    path("tickets/<int:pk>/topic/", ticket.topic_view, name="ticket_topic"),
    path("topics/<int:pk>/", topics.topic_tickets, name="topic_tickets"),
    path(
        "tickets/<int:pk>/moderation/<slug:operation>/",
        ticket.moderate,
        name="ticket_moderate",
    ),
    path("tickets/<int:pk>/presence/", ticket.presence_ping, name="ticket_presence"),
    path("tickets/<int:pk>/changes/", live.ticket_changes, name="ticket_changes"),
    path("tickets/<int:pk>/replies/", ticket.create_reply_view, name="reply_create"),
    path("tickets/<int:pk>/replies/check/", ticket.check_reply_view, name="reply_check"),
    path("tickets/<int:pk>/replies/template/", ticket.fill_template, name="reply_template"),
    path(
        "tickets/<int:pk>/suggestions/",
        suggestions.ticket_suggestions,
        name="ticket_suggestions",
    ),
    path("tickets/<int:pk>/knowledge/insert/", suggestions.ticket_insert, name="ticket_insert"),
    path("replies/<int:pk>/edit/", ticket.edit_reply_view, name="reply_edit"),
    path("replies/<int:pk>/retry/", ticket.retry_reply_view, name="reply_retry"),
    path("replies/<int:pk>/posted/", ticket.confirm_posted_view, name="reply_confirm_posted"),
    # ---- four-eyes review
    path("review/", review.review_queue, name="review_queue"),
    path("review/<int:pk>/findings/", review.findings, name="review_findings"),
    path("review/<int:pk>/approve/", review.approve, name="reply_approve"),
    path("review/<int:pk>/reject/", review.reject, name="reply_reject"),
    # ---- notifications
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/bell/", notifications.bell, name="notification_bell"),
    path("notifications/<int:pk>/read/", notifications.mark_read, name="notification_read"),
    path("notifications/read-all/", notifications.mark_all_read, name="notifications_read_all"),
    # ---- department inbox
    path("department/", department.department_inbox, name="department_inbox"),
    path(
        "department/requests/<int:pk>/",
        department.department_request_detail,
        name="department_request_detail",
    ),
    # ---- the customer page: identities, tickets, notes, consent, merges
    path("customers/<int:pk>/", customer.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/notes/", customer.customer_add_note, name="customer_add_note"),
    path("customers/<int:pk>/consents/", customer.customer_record_consent, name="customer_consent"),
    path("customers/<int:pk>/merge/", customer.customer_merge, name="customer_merge"),
    path("customer-merges/<int:pk>/undo/", customer.merge_undo, name="merge_undo"),
    # ---- search
    path("search/", search.search, name="search"),
    # ---- the information centre (experts open these too: the names start "knowledge_")
    path("knowledge/", knowledge.knowledge_list, name="knowledge_list"),
    path("knowledge/new/", knowledge.knowledge_new, name="knowledge_new"),
    path("knowledge/propose/", knowledge.knowledge_propose_new, name="knowledge_propose_new"),
    path("knowledge/proposals/", knowledge.knowledge_proposals, name="knowledge_proposals"),
    path("knowledge/proposals/<int:pk>/", knowledge.knowledge_proposal, name="knowledge_proposal"),
    path("knowledge/<int:pk>/", knowledge.knowledge_article, name="knowledge_article"),
    path("knowledge/<int:pk>/edit/", knowledge.knowledge_edit, name="knowledge_edit"),
    path("knowledge/<int:pk>/status/", knowledge.knowledge_status, name="knowledge_status"),
    path("knowledge/<int:pk>/topics/", knowledge.knowledge_topics, name="knowledge_topics"),
    path("knowledge/<int:pk>/history/", knowledge.knowledge_history, name="knowledge_history"),
    path("knowledge/<int:pk>/propose/", knowledge.knowledge_propose, name="knowledge_propose"),
    path("guidelines/", knowledge.guidelines, name="guidelines"),
    # ---- staffing (issue 16): presence switch, routing, forecast
    path("presence/", staffing.set_presence, name="set_presence"),
    path("presence/on-duty/", staffing.on_duty, name="on_duty"),
    path("staffing/", staffing.staffing_page, name="staffing"),
    path("staffing/forecast/", staffing.forecast_page, name="staffing_forecast"),
    # ---- team-lead dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("dashboard/export/<slug:table>.csv", dashboard.dashboard_export, name="dashboard_export"),
]
