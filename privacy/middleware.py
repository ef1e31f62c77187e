"""The access audit's writer: who saw which customer page, ticket page, export or search
result. Views note what they showed (servicedesk.web.note_access); the customer and ticket
pages are recognised by their URL names. The entries are written in one INSERT when the
server closes the response — after its bytes went out, so the page never waits for it —
and a failed write is logged, never shown."""

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from privacy.actions.audit import write_entries
from privacy.choices import AccessKind
from servicedesk.web import ACCESS_NOTES_ATTRIBUTE

logger = logging.getLogger(__name__)

# URL name → (kind, which URL argument names what)
AUDITED_PAGES = {
    "customer_detail": (AccessKind.CUSTOMER_PAGE, "customer"),
    "ticket_detail": (AccessKind.TICKET_PAGE, "ticket"),
    "api-customer-detail": (AccessKind.API_CUSTOMER, "customer"),
}


class AccessAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code >= 400:
            return response  # nothing was shown
        notes = list(getattr(request, ACCESS_NOTES_ATTRIBUTE, ()))
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name in AUDITED_PAGES and request.method == "GET":
            kind, names = AUDITED_PAGES[match.url_name]
            pk = match.kwargs.get("pk")
            if isinstance(pk, int):
                notes.append((kind, pk, None) if names == "customer" else (kind, None, pk))
        if not notes:
            return response
        user = getattr(request, "user", None)
        user_id = user.pk if user is not None and user.is_authenticated else None
        entries = [(user_id, kind, c, t, request.path[:300]) for kind, c, t in notes]
        at = timezone.now()
        response._resource_closers.append(lambda: _write(entries, at))
        return response


def _write(entries: list[tuple[Any, ...]], at: Any) -> None:
    try:
        write_entries(entries, at=at)
    except Exception:  # the audit must never break a page that was already sent
        logger.exception("access audit: %d entries not written", len(entries))
