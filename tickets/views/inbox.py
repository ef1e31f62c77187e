"""The CM triage inbox: new tickets by SLA deadline, live-updated, with inline triage."""

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from crm.models import SocialIdentity
from monitoring.adapters import capabilities_of
from monitoring.models import Mention
from servicedesk import roles
from servicedesk.timewindow import parse_moment
from servicedesk.web import (
    LIST_COUNT_CAP,
    PAGE_SIZES,
    capped_count,
    form_error_text,
    page_size,
    page_size_refused,
    role_required,
)
from tickets import actions
from tickets.choices import DismissReason, TicketState
from tickets.forms import BulkDismissForm
from tickets.models import SlaClock, Ticket
from tickets.views import triage_ui

INBOX_PAGE_SIZE = 25
# A poll re-reads tickets changed a little before its last answer, so a ticket committed
# while the previous poll ran is not missed (the browser merges rows by id).
POLL_OVERLAP_SECONDS = 10
POLL_MAX_ROWS = 50


LIST_ORDER = (F("sla_due_at").asc(nulls_last=True), "opened_at")


def with_list_columns(
    queryset: QuerySet[Ticket], *, now: datetime, breached: bool | None = None
) -> QuerySet[Ticket]:
    """The columns of the ticket lists in one query: the first customer mention's author,
    the running clock's warning time and whether a running clock is breached; breached
    first, then by deadline (none last) and arrival.

    Only a ticket whose earliest running deadline (`sla_due_at`) has passed can have a
    breached running clock: a breach is recorded for a running clock past its deadline, and
    deadlines never move. So the breach lookup runs for those few tickets only, not for each
    row of a tab that can hold 200,000 tickets. `breached=False` states that none of
    `queryset` is breached (BreachedFirst knows) and skips the lookup."""
    first_mention = Mention.objects.filter(ticket=OuterRef("pk"), is_own_account=False).order_by(
        "created_at", "id"
    )
    running = SlaClock.objects.running().filter(ticket=OuterRef("pk"))
    return (
        queryset.select_related("channel", "customer", "assignee")
        .annotate(
            author_blocked=author_is_blocked(),
            author_handle=Subquery(first_mention.values("author_handle")[:1]),
            author_name=Subquery(first_mention.values("author_display_name")[:1]),
            first_mention_id=Subquery(first_mention.values("pk")[:1]),
            sla_warn_at=Subquery(running.order_by("due_at").values("warn_at")[:1]),
            is_breached=Value(False)
            if breached is False
            else Case(
                When(sla_due_at__lt=now, then=Exists(running.filter(breach__isnull=False))),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .order_by(F("is_breached").desc(), *LIST_ORDER)
    )


class BreachedFirst:
    """A ticket list in the order of `with_list_columns`, paged for a Paginator as two
    queries an index serves: the breached tickets (few: only tickets past their deadline are
    looked at), then the others in the order of an index on (…, sla_due_at, opened_at) up to
    the page's end, instead of one sort of the whole list for every page. `count`, when the
    caller knows it already, spares the paginator its count query."""

    def __init__(
        self, queryset: QuerySet[Ticket], *, now: datetime, count: int | None = None
    ) -> None:
        self._queryset = queryset
        self._now = now
        self._count = count
        self._breached: list[Ticket] | None = None

    def count(self) -> int:
        if self._count is None:
            self._count = self._queryset.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Ticket]:
        if self._breached is None:
            overdue = self._queryset.filter(sla_due_at__lt=self._now)
            self._breached = list(
                with_list_columns(overdue, now=self._now)
                .filter(is_breached=True)
                .order_by(*LIST_ORDER)
            )
        first = len(self._breached)
        start = max((index.start or 0) - first, 0)
        stop = (index.stop if index.stop is not None else self.count()) - first
        others: list[Ticket] = []
        if stop > start:
            rest = self._queryset.exclude(pk__in=[ticket.pk for ticket in self._breached])
            others = list(
                with_list_columns(rest, now=self._now, breached=False).order_by(*LIST_ORDER)[
                    start:stop
                ]
            )
        return self._breached[index] + others


def author_is_blocked() -> Exists:
    """Whether the ticket's customer has an account blocked (on the platform or the desk)."""
    return Exists(
        SocialIdentity.objects.filter(customer_id=OuterRef("customer_id"), blocked_at__isnull=False)
    )


def tickets_in_new(user: Any, *, blocked: bool) -> QuerySet[Ticket]:
    """The inbox's tickets: new ones of authors not blocked, or (the "Blocked" filter) those
    of blocked authors, which are stored and shown there instead of the normal inbox."""
    new = Ticket.objects.visible_to(user).filter(state=TicketState.NEW)
    return new.filter(author_is_blocked()) if blocked else new.exclude(author_is_blocked())


def _row_context(tickets: list[Ticket]) -> dict[str, Any]:
    capabilities = {}
    for ticket in tickets:
        if ticket.channel_id not in capabilities:
            capabilities[ticket.channel_id] = capabilities_of(ticket.channel)
    return {
        "capabilities": capabilities,
        "dismiss_reasons": DismissReason.choices,
        "inbox_url": reverse("tickets:inbox"),
        **triage_ui.correction_choices(),
    }


@role_required(roles.is_community_manager, roles.is_team_lead)
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    size = page_size(request, "inbox", INBOX_PAGE_SIZE)
    if size is None:
        return page_size_refused()
    blocked = request.GET.get("filter") == "blocked"
    triage_form = triage_ui.InboxTriageFilterForm(request.GET)
    if not triage_form.is_valid():
        return HttpResponse(
            form_error_text(triage_form), status=400, content_type="text/plain; charset=utf-8"
        )
    chosen = triage_form.active()
    listed = triage_ui.filter_by_suggestion(tickets_in_new(request.user, blocked=blocked), chosen)
    if chosen.get("sort"):  # by suggestion, then the SLA order
        rows: Any = triage_ui.with_suggestion_rank(
            with_list_columns(listed, now=now), chosen["sort"]
        ).order_by("suggestion_rank", F("is_breached").desc(), *LIST_ORDER)
        total = None
    else:
        total = capped_count(listed)
        rows = BreachedFirst(listed, now=now, count=min(total, LIST_COUNT_CAP))
    page = Paginator(rows, size).get_page(request.GET.get("page"))
    tickets = list(page.object_list)
    triage_ui.attach_suggestions(tickets)
    query = {**chosen, **({"filter": "blocked"} if blocked else {})}
    return render(
        request,
        "tickets/inbox.html",
        {
            "page": page,
            "total": page.paginator.count if total is None else total,
            "tickets": tickets,
            "since": now.isoformat(),
            "blocked_filter": blocked,
            "triage_filter": chosen,
            "triage_sorts": triage_ui.SORTS,
            "query_string": urlencode(query),
            "may_correct_triage": triage_ui.may_correct(request.user),
            "page_size": size,
            "page_sizes": PAGE_SIZES,
            "is_cm": roles.is_community_manager(request.user) or roles.is_team_lead(request.user),
            **_row_context(tickets),
        },
    )


def _since(value: str | None, *, now: datetime) -> datetime:
    """The poll's start (a little overlap); refuses ValidationError for a `since` that is
    malformed, naive or outside the desk's time window."""
    start = parse_moment(value) if value else now
    return start - timedelta(seconds=POLL_OVERLAP_SECONDS)


@role_required(roles.is_community_manager, roles.is_team_lead)
@require_GET
def inbox_poll(request: HttpRequest) -> HttpResponse:
    """New and changed tickets in `new` since the last poll (htmx, every 5 s), under the
    page's suggestion filters; desk.js merges them into the table by id, so selection and
    checkboxes stay."""
    now = timezone.now()
    try:
        since = _since(request.GET.get("since"), now=now)
    except ValidationError as error:
        return HttpResponse(
            " ".join(error.messages), status=400, content_type="text/plain; charset=utf-8"
        )
    blocked = request.GET.get("filter") == "blocked"
    triage_form = triage_ui.InboxTriageFilterForm(request.GET)
    if not triage_form.is_valid():
        return HttpResponse(
            form_error_text(triage_form), status=400, content_type="text/plain; charset=utf-8"
        )
    listed = triage_ui.filter_by_suggestion(
        tickets_in_new(request.user, blocked=blocked), triage_form.active()
    )
    tickets = list(with_list_columns(listed, now=now).filter(updated_at__gte=since)[:POLL_MAX_ROWS])
    triage_ui.attach_suggestions(tickets)
    return render(
        request,
        "tickets/partials/inbox_poll.html",
        {
            "tickets": tickets,
            "since": now.isoformat(),
            "may_correct_triage": triage_ui.may_correct(request.user),
            **_row_context(tickets),
        },
    )


@role_required(roles.is_community_manager, roles.is_team_lead)
@require_POST
def bulk_dismiss(request: HttpRequest) -> HttpResponse:
    """Dismiss the checked tickets (spam waves); each one on its own, refusals reported."""
    form = BulkDismissForm(request.POST, visible=Ticket.objects.visible_to(request.user))
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return redirect("tickets:inbox")
    done, refused = actions.dismiss_tickets(
        form.cleaned_data["tickets"], actor=request.user, reason=form.cleaned_data["reason"]
    )
    if done:
        messages.success(
            request,
            ngettext("%(count)d ticket dismissed.", "%(count)d tickets dismissed.", len(done))
            % {"count": len(done)},
        )
    for ticket, error in refused:
        messages.error(
            request, _("Ticket #%(ticket)s: %(error)s") % {"ticket": ticket.pk, "error": error}
        )
    return redirect("tickets:inbox")
