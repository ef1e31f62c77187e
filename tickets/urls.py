"""HTML pages of the tickets app (the browser workspace), one block per page."""

from django.urls import path

from tickets.views import (
    customer,
    dashboard,
    department,
    inbox,
    notifications,
    queue,
    review,
    search,
    ticket,
)

app_name = "tickets"

urlpatterns = [
    # ---- CM inbox
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/poll/", inbox.inbox_poll, name="inbox_poll"),
    path("inbox/bulk-dismiss/", inbox.bulk_dismiss, name="inbox_bulk_dismiss"),
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
    path(
        "tickets/<int:pk>/moderation/<slug:operation>/",
        ticket.moderate,
        name="ticket_moderate",
    ),
    path("tickets/<int:pk>/presence/", ticket.presence_ping, name="ticket_presence"),
    path("tickets/<int:pk>/replies/", ticket.create_reply_view, name="reply_create"),
    path("tickets/<int:pk>/replies/check/", ticket.check_reply_view, name="reply_check"),
    path("tickets/<int:pk>/replies/template/", ticket.fill_template, name="reply_template"),
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
    # ---- team-lead dashboard
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("dashboard/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("dashboard/export/<slug:table>.csv", dashboard.dashboard_export, name="dashboard_export"),
]
