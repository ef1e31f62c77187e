"""The support queue: tabs by state, breached first, then by deadline."""

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from servicedesk import roles
from servicedesk.web import (
    LIST_COUNT_CAP,
    PAGE_SIZES,
    capped_count,
    page_size,
    page_size_refused,
    role_required,
)
from tickets.choices import OPEN_STATES, TicketState
from tickets.models import Ticket
from tickets.views.inbox import BreachedFirst, with_list_columns

User = get_user_model()

QUEUE_PAGE_SIZE = 25

# Tab key → (label, filter). "mine" is filled in per user.
TABS: list[tuple[str, Any]] = [
    ("pickup", _("Waiting for pickup")),
    ("mine", _("My tickets")),
    ("waiting_customer", _("Waiting for customer")),
    ("waiting_department", _("Waiting for department")),
    ("follow_up", _("Follow-up due")),
]


def tab_filters(user: Any) -> dict[str, Q]:
    return {
        "pickup": Q(state=TicketState.SUPPORT),
        "mine": Q(assignee=user, state__in=OPEN_STATES),
        "waiting_customer": Q(state=TicketState.WAITING_CUSTOMER),
        "waiting_department": Q(state=TicketState.WAITING_DEPARTMENT),
        "follow_up": Q(follow_up_due_at__isnull=False, state__in=OPEN_STATES),
    }


def queue_queryset(user: Any, tab: str, *, now: datetime) -> QuerySet[Ticket]:
    return with_list_columns(
        Ticket.objects.visible_to(user).filter(tab_filters(user)[tab]), now=now
    )


@role_required(roles.is_support_agent, roles.is_team_lead)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    size = page_size(request, "queue", QUEUE_PAGE_SIZE)
    if size is None:
        return page_size_refused()
    filters = tab_filters(request.user)
    tab = request.GET.get("tab") if request.GET.get("tab") in filters else "pickup"
    visible = Ticket.objects.visible_to(request.user)
    # One count per tab, each served by its index and stopped at the cap, rather than one
    # pass over all tickets.
    counts = {key: capped_count(visible.filter(condition)) for key, condition in filters.items()}
    listed = min(counts[tab], LIST_COUNT_CAP)
    page = Paginator(
        BreachedFirst(visible.filter(filters[tab]), now=timezone.now(), count=listed), size
    ).get_page(request.GET.get("page"))
    is_lead = roles.is_team_lead(request.user)
    return render(
        request,
        "tickets/queue.html",
        {
            "tab": tab,
            "tabs": [
                {"key": key, "label": label, "count": counts[key], "current": key == tab}
                for key, label in TABS
            ],
            "page": page,
            "tickets": list(page.object_list),
            "is_lead": is_lead,
            "page_size": size,
            "page_sizes": PAGE_SIZES,
            "assignees": list(
                User.objects.filter(
                    groups__name__in=[roles.SUPPORT_AGENT, roles.TEAM_LEAD], is_active=True
                )
                .distinct()
                .order_by("first_name", "username")
            )
            if is_lead
            else [],
            "queue_url": f"{reverse('tickets:queue')}?tab={tab}",
        },
    )
