"""Bench-only URLconf: the desk's URLs plus a minimal JSON view, the yardstick of the page
benchmark (bench/pages.py). Used only through ROOT_URLCONF in a benchmark process; the
production URLconf (servicedesk.urls) has no benchmark endpoint."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import path

from servicedesk.urls import handler400, handler404, handler500  # noqa: F401
from servicedesk.urls import urlpatterns as desk_urlpatterns
from tickets.models import Ticket


@login_required
def minimal_ticket(request: HttpRequest, pk: int) -> JsonResponse:
    """One indexed query (a primary-key lookup) answered as JSON, through the same middleware
    as the desk's pages (session, user, locale, CSRF, messages)."""
    row = Ticket.objects.filter(pk=pk).values("id", "state", "priority", "preview").first()
    return JsonResponse(row or {}, status=200 if row else 404)


urlpatterns = [
    path("bench/minimal/tickets/<int:pk>/", minimal_ticket, name="bench_minimal_ticket"),
    *desk_urlpatterns,
]
