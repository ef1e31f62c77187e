"""Notifications: the bell in the navigation and the list page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from tickets import actions
from tickets.models import Notification
from tickets.templatetags.desk_tickets import unread_notification_count

NOTIFICATION_PAGE_SIZE = 30


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    notifications = Notification.objects.for_user(request.user).select_related("ticket")
    page = Paginator(notifications, NOTIFICATION_PAGE_SIZE).get_page(request.GET.get("page"))
    template = (
        "tickets/partials/notification_rows.html"
        if request.headers.get("HX-Request")
        else "tickets/notifications.html"
    )
    return render(
        request,
        template,
        {
            "page": page,
            "notifications": list(page.object_list),
            "unread_count": unread_notification_count(request.user),
        },
    )


@login_required
@require_GET
def bell(request: HttpRequest) -> HttpResponse:
    """The bell with its unread count (htmx polling from every page)."""
    return render(
        request,
        "tickets/partials/notification_bell.html",
        {"unread_count": unread_notification_count(request.user)},
    )


@login_required
@require_POST
def mark_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(Notification.objects.for_user(request.user), pk=pk)
    actions.mark_notification_read(notification, actor=request.user)
    if request.POST.get("open") and notification.ticket_id:
        return redirect("tickets:ticket_detail", pk=notification.ticket_id)
    # Notifications of the information centre name an article or a proposal instead.
    if request.POST.get("open") and notification.data.get("proposal"):
        return redirect("tickets:knowledge_proposal", pk=notification.data["proposal"])
    if request.POST.get("open") and notification.data.get("article"):
        return redirect("tickets:knowledge_article", pk=notification.data["article"])
    # An incident alert opens the incident (issue 14).
    if request.POST.get("open") and notification.data.get("incident"):
        return redirect("tickets:incident_detail", pk=notification.data["incident"])
    # A department expert's notification opens the request it names (issue 17).
    if request.POST.get("open") and notification.data.get("department_request"):
        return redirect(
            "tickets:department_request_detail", pk=notification.data["department_request"]
        )
    return redirect("tickets:notifications")


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = actions.mark_all_notifications_read(actor=request.user)
    messages.success(
        request,
        ngettext(
            "%(count)d notification marked as read.",
            "%(count)d notifications marked as read.",
            count,
        )
        % {"count": count},
    )
    return redirect("tickets:notifications")
