"""Full-text search across mentions, replies, internal notes, customers and handles.

PostgreSQL full text in German and English at once: every document is
`to_tsvector('german', …) || to_tsvector('english', …)` (the expression of the GIN indexes
in monitoring 0003, tickets 0003 and crm 0002) and the query is
`websearch_to_tsquery('german', …) || websearch_to_tsquery('english', …)`, so "Pakete"
finds "Paket" and "parcels" finds "parcel". Handles match by prefix. Results are tickets
(newest activity first) with highlighted snippets, and customers; both paginated with a
constant number of queries.
"""

import zoneinfo
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.postgres.search import (
    CombinedSearchQuery,
    CombinedSearchVector,
    SearchHeadline,
    SearchQuery,
    SearchVector,
)
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_GET

from crm.models import Customer, SocialIdentity, normalise_handle
from monitoring.models import Channel, Mention
from servicedesk.timewindow import DayField
from servicedesk.web import desk_staff_required, note_access
from tickets.choices import TicketState
from tickets.models import Reply, Ticket, TicketNote

SEARCH_PAGE_SIZE = 20
CUSTOMER_PAGE_SIZE = 10
SNIPPETS_PER_TICKET = 3
QUERY_MAX_LENGTH = 200  # characters; longer input is not a search but a paste
# Private-use characters mark the highlighted words in ts_headline's output; the text is
# escaped first and only then are they turned into <mark>, so user text can never inject HTML.
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"
HEADLINE_CONFIG = {"de": "german", "en": "english"}


def search_vector(field: str) -> CombinedSearchVector:
    """German || English document of `field`: exactly the indexed expression."""
    return SearchVector(field, config="german") + SearchVector(field, config="english")


def search_query(text: str) -> CombinedSearchQuery:
    """The user's words (web-search syntax: "quotes", -not, or) in German and English."""
    return SearchQuery(text, search_type="websearch", config="german") | SearchQuery(
        text, search_type="websearch", config="english"
    )


def matching(queryset: QuerySet[Any], field: str, query: CombinedSearchQuery) -> QuerySet[Any]:
    return queryset.annotate(document=search_vector(field)).filter(document=query)


def highlight(headline: str) -> SafeString:
    """Escape the snippet, then turn the highlight markers into <mark> (unbalanced markers,
    e.g. typed by a customer, fall back to the plain escaped text)."""
    escaped = str(escape(headline))
    if escaped.count(HIGHLIGHT_START) != escaped.count(HIGHLIGHT_STOP):
        return escape(headline.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, ""))
    # Escaped above: only our own markers become tags.
    return mark_safe(escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_STOP, "</mark>"))


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=QUERY_MAX_LENGTH, required=False)
    state = forms.ChoiceField(
        label=_("State"), choices=[("", _("All states")), *TicketState.choices], required=False
    )
    channel = forms.ModelChoiceField(
        label=_("Channel"),
        queryset=Channel.objects.order_by("name"),
        to_field_name="slug",
        empty_label=_("All channels"),
        required=False,
    )
    opened_from = DayField(
        label=_("Opened from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    opened_to = DayField(
        label=_("Opened until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("opened_from"), cleaned.get("opened_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date lies after the end date."))
        return cleaned


def _start_of_day(day: date) -> datetime:
    """Midnight of `day` in the user's time zone."""
    zone = timezone.get_current_timezone()
    if not isinstance(zone, zoneinfo.ZoneInfo):
        zone = zoneinfo.ZoneInfo(str(zone))
    return datetime.combine(day, time.min, tzinfo=zone)


def searchable_replies() -> QuerySet[Reply]:
    """Replies search may show: not a draft rejected for personal data (issue 15, point 7)."""
    return Reply.objects.filter(rejected_for_personal_data=False)


def matching_tickets(user: Any, text: str, filters: dict[str, Any]) -> QuerySet[Ticket]:
    """Visible tickets whose mentions, replies or notes match `text`, or whose customer
    matches it (name, or a handle starting with it); filtered by state, channel, dates."""
    query = search_query(text)
    tickets = Ticket.objects.visible_to(user).filter(
        Q(pk__in=matching(Mention.objects, "text", query).values("ticket_id"))
        | Q(pk__in=matching(searchable_replies(), "text", query).values("ticket_id"))
        | Q(pk__in=matching(TicketNote.objects, "text", query).values("ticket_id"))
        | Q(customer_id__in=matching_customer_ids(text))
    )
    if filters.get("state"):
        tickets = tickets.filter(state=filters["state"])
    if filters.get("channel"):
        tickets = tickets.filter(channel=filters["channel"])
    if filters.get("opened_from"):
        tickets = tickets.filter(opened_at__gte=_start_of_day(filters["opened_from"]))
    if filters.get("opened_to"):
        end = _start_of_day(filters["opened_to"] + timedelta(days=1))
        tickets = tickets.filter(opened_at__lt=end)
    return tickets.select_related("channel", "customer", "assignee").order_by(
        "-last_mention_at", "-pk"
    )


def matching_customer_ids(text: str) -> QuerySet[Any]:
    """Customers whose name or an identity's name matches, or whose handle starts with the
    text (a single word; "@" optional)."""
    query = search_query(text)
    condition = Q(pk__in=matching(Customer.objects, "display_name", query).values("pk")) | Q(
        pk__in=matching(SocialIdentity.objects, "display_name", query).values("customer_id")
    )
    handle = normalise_handle(text)
    if handle and not any(char.isspace() for char in handle):
        condition |= Q(
            pk__in=SocialIdentity.objects.filter(handle__startswith=handle).values("customer_id")
        )
    return Customer.objects.filter(condition).values("pk")


def snippets_for(ticket_ids: list[int], text: str) -> dict[int, list[dict[str, Any]]]:
    """Highlighted snippets of the matching mentions, replies and notes of these tickets:
    three queries, whatever the number of tickets."""
    query = search_query(text)
    config = HEADLINE_CONFIG.get((translation.get_language() or "de")[:2], "german")
    snippets: dict[int, list[dict[str, Any]]] = defaultdict(list)
    sources = (
        (Mention.objects, _("Mention")),
        (searchable_replies(), pgettext_lazy("search hit", "Reply")),
        (TicketNote.objects, _("Internal note")),
    )
    for manager, label in sources:
        rows = (
            matching(manager.filter(ticket_id__in=ticket_ids), "text", query)
            .annotate(
                headline=SearchHeadline(
                    "text",
                    query,
                    config=config,
                    start_sel=HIGHLIGHT_START,
                    stop_sel=HIGHLIGHT_STOP,
                    max_words=35,
                    min_words=15,
                )
            )
            .order_by("ticket_id", "-created_at")
            .values("ticket_id", "headline", "created_at")
        )
        for row in rows:
            snippets[row["ticket_id"]].append(
                {"label": label, "html": highlight(row["headline"]), "at": row["created_at"]}
            )
    return {
        ticket_id: sorted(items, key=lambda item: item["at"], reverse=True)[:SNIPPETS_PER_TICKET]
        for ticket_id, items in snippets.items()
    }


@desk_staff_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "searched": False}
    if form.is_valid() and form.cleaned_data["q"].strip():
        text = form.cleaned_data["q"].strip()
        page = Paginator(
            matching_tickets(request.user, text, form.cleaned_data), SEARCH_PAGE_SIZE
        ).get_page(request.GET.get("page"))
        tickets = list(page.object_list)
        snippets = snippets_for([ticket.pk for ticket in tickets], text)
        for ticket in tickets:
            ticket.snippets = snippets.get(ticket.pk, [])
        customers = (
            Customer.objects.active()
            .filter(pk__in=matching_customer_ids(text))
            .order_by("display_name", "pk")
            .prefetch_related(
                Prefetch(
                    "identities", queryset=SocialIdentity.objects.order_by("platform", "handle")
                )
            )
        )
        customer_page = Paginator(customers, CUSTOMER_PAGE_SIZE).get_page(
            request.GET.get("customer_page")
        )
        shown = list(customer_page.object_list)
        # Who saw which customer (issue 15): the customers found and the tickets' customers.
        note_access(
            request,
            "search",
            customer_ids=sorted({c.pk for c in shown} | {t.customer_id for t in tickets}),
        )
        query_string = request.GET.copy()
        query_string.pop("page", None)
        query_string.pop("customer_page", None)
        context.update(
            searched=True,
            text=text,
            page=page,
            tickets=tickets,
            customer_page=customer_page,
            customers=shown,
            query_string=query_string.urlencode(),
        )
    # Invalid filters (a date outside the desk's window, a reversed range) are a form error.
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "tickets/search.html", context, status=status)
