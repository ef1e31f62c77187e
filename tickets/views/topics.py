"""A topic under observation and its tickets (issue 17): the team lead's topic table links
here; any open ticket can be linked to a topic, not only unsolvable ones."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from servicedesk.web import desk_staff_required
from tickets.models import Ticket, Topic

TOPIC_PAGE_SIZE = 50


@desk_staff_required
@require_GET
def topic_tickets(request: HttpRequest, pk: int) -> HttpResponse:
    topic = get_object_or_404(Topic, pk=pk)
    tickets = (
        Ticket.objects.visible_to(request.user)
        .filter(topic=topic)
        .select_related("channel", "customer", "assignee")
        .order_by("-opened_at", "-pk")
    )
    page = Paginator(tickets, TOPIC_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/topic_tickets.html",
        {"topic": topic, "page": page, "tickets": list(page.object_list)},
    )
