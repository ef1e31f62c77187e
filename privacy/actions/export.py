"""Access (Art. 15): everything the desk holds about one customer, streamed.

`sections(customer)` yields (section name, iterator of JSON-safe rows); every iterator
reads the database in chunks (`.iterator()`), so a customer with 100,000 mentions costs the
memory of one chunk. `json_chunks` and `html_chunks` turn the sections into the
machine-readable JSON and the readable document (German or English, the caller's language);
the views stream them. The export itself is recorded in the access audit by the view.
"""

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.db.models import Q
from django.utils.html import escape
from django.utils.translation import gettext as _

from crm.models import Consent, Customer, CustomerNote, SocialIdentity
from monitoring.models import Mention, MentionRevision
from tickets.models import DepartmentRequest, Notification, Reply, Ticket, TicketEvent, TicketNote
from triage.models import Label, Suggestion

CHUNK = 1000

Section = tuple[str, Iterator[dict[str, Any]]]


def _rows(queryset: Any, fields: Iterable[str]) -> Iterator[dict[str, Any]]:
    for row in queryset.values(*fields).iterator(chunk_size=CHUNK):
        yield {key: _plain(value) for key, value in row.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def section_titles() -> dict[str, str]:
    return {
        "customer": _("Customer"),
        "identities": _("Social identities"),
        "consents": _("Consent history"),
        "customer_notes": _("Customer notes"),
        "tickets": _("Tickets"),
        "mentions": _("Posts (mentions)"),
        "mention_revisions": _("Edited versions of posts"),
        "replies": _("Replies to the customer"),
        "own_posts": _("The company's public posts in their threads"),
        "ticket_notes": _("Internal notes on the tickets"),
        "ticket_events": _("Ticket history"),
        "department_requests": _("Department requests"),
        "notifications": _("Notifications about the tickets"),
        "triage_suggestions": _("Automatic triage of the posts"),
        "triage_labels": _("Triage decisions on the posts"),
    }


def sections(customer: Customer) -> Iterator[Section]:
    tickets = Ticket.objects.filter(customer=customer)
    mentions = Mention.objects.filter(identity__customer=customer)
    ticket_ids = tickets.values("pk")
    mention_ids = mentions.values("pk")
    yield (
        "customer",
        iter(
            [
                {
                    "id": customer.pk,
                    "display_name": customer.display_name,
                    "created_at": customer.created_at.isoformat(),
                    "merged_into": customer.merged_into_id,
                }
            ]
        ),
    )
    yield (
        "identities",
        _rows(
            SocialIdentity.objects.filter(customer=customer).order_by("pk"),
            ["id", "platform", "handle", "display_name", "platform_user_id", "created_at"],
        ),
    )
    yield (
        "consents",
        _rows(
            Consent.objects.filter(customer=customer).order_by("created_at", "pk"),
            ["id", "purpose", "status", "source", "created_at", "actor__username"],
        ),
    )
    yield (
        "customer_notes",
        _rows(
            CustomerNote.objects.filter(customer=customer).order_by("created_at", "pk"),
            ["id", "text", "created_at", "author__username"],
        ),
    )
    yield (
        "tickets",
        _rows(
            tickets.order_by("pk"),
            [
                "id",
                "state",
                "channel__slug",
                "opened_at",
                "resolved_at",
                "preview",
                "handover_reference",
            ],
        ),
    )
    yield (
        "mentions",
        _rows(
            mentions.order_by("pk"),
            [
                "id",
                "channel__slug",
                "external_id",
                "ticket_id",
                "author_handle",
                "author_display_name",
                "author_platform_user_id",
                "text",
                "created_at",
                "received_at",
                "url",
                "in_reply_to",
                "is_private",
                "language",
                "raw",
            ],
        ),
    )
    yield (
        "mention_revisions",
        _rows(
            MentionRevision.objects.filter(mention__in=mention_ids).order_by("mention_id", "pk"),
            ["id", "mention_id", "text", "received_at"],
        ),
    )
    yield (
        "replies",
        _rows(
            Reply.objects.filter(Q(ticket__in=ticket_ids) | Q(in_reply_to_mention__in=mention_ids))
            .distinct()
            .order_by("pk"),
            ["id", "ticket_id", "visibility", "kind", "status", "text", "sent_at", "created_at"],
        ),
    )
    # What the brand's own accounts posted in their threads (written outside the desk or
    # polled back after sending): answers to them, so part of what the desk holds.
    yield (
        "own_posts",
        _rows(
            Mention.objects.filter(ticket__in=ticket_ids, is_own_account=True).order_by("pk"),
            ["id", "channel__slug", "external_id", "ticket_id", "text", "created_at", "url"],
        ),
    )
    yield (
        "ticket_notes",
        _rows(
            TicketNote.objects.filter(ticket__in=ticket_ids).order_by("pk"),
            ["id", "ticket_id", "text", "created_at", "author__username"],
        ),
    )
    yield (
        "ticket_events",
        _rows(
            TicketEvent.objects.filter(ticket__in=ticket_ids).order_by("pk"),
            [
                "id",
                "ticket_id",
                "kind",
                "transition",
                "from_state",
                "to_state",
                "note",
                "data",
                "created_at",
            ],
        ),
    )
    yield (
        "department_requests",
        _rows(
            DepartmentRequest.objects.filter(
                Q(ticket__in=ticket_ids) | Q(shared_mentions__in=mention_ids)
            )
            .distinct()
            .order_by("pk"),
            [
                "id",
                "ticket_id",
                "department__slug",
                "question",
                "answer",
                "status",
                "created_at",
                "answered_at",
            ],
        ),
    )
    yield (
        "notifications",
        _rows(
            Notification.objects.filter(ticket__in=ticket_ids).order_by("pk"),
            ["id", "ticket_id", "kind", "text", "created_at", "user__username"],
        ),
    )
    yield (
        "triage_suggestions",
        _rows(
            Suggestion.objects.filter(mention__in=mention_ids).order_by("mention_id"),
            ["mention_id", *Suggestion.SHOWN_FIELDS, "created_at"],
        ),
    )
    yield (
        "triage_labels",
        _rows(
            Label.objects.filter(mention__in=mention_ids).order_by("mention_id", "pk"),
            ["mention_id", "head", "value", "source", "created_at", "actor__username"],
        ),
    )


def json_chunks(customer: Customer, *, generated_at: datetime) -> Iterator[str]:
    """One JSON object: {"format", "generated_at", "<section>": [rows], ...}, streamed."""
    yield json.dumps(
        {"format": "social-service-desk/art15-export/1", "generated_at": generated_at.isoformat()}
    )[:-1]
    for name, rows in sections(customer):
        yield f', "{name}": ['
        first = True
        for row in rows:
            yield ("" if first else ", ") + json.dumps(row, ensure_ascii=False, default=str)
            first = False
        yield "]"
    yield "}\n"


def html_chunks(customer: Customer, *, generated_at: datetime) -> Iterator[str]:
    """A readable document in the active language (tables per section), streamed."""
    titles = section_titles()
    title = _("Data held about customer #%(id)s") % {"id": customer.pk}
    yield (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<link rel="stylesheet" href="/static/css/desk.css"></head>'
        f'<body class="privacy-export"><h1>{escape(title)}</h1>'
        f"<p>{escape(_('Generated at'))} {escape(generated_at.isoformat())}</p>"
    )
    for name, rows in sections(customer):
        yield f"<h2>{escape(titles[name])}</h2>"
        header = None
        count = 0
        for row in rows:
            if header is None:
                header = list(row)
                yield "<table><tr>" + "".join(f"<th>{escape(k)}</th>" for k in header) + "</tr>"
            cells = "".join(f"<td>{escape(_cell(row[key]))}</td>" for key in header)
            yield f"<tr>{cells}</tr>"
            count += 1
        yield "</table>" if header is not None else f"<p>{escape(_('None.'))}</p>"
    yield "</body></html>\n"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
