"""The customer page: identities on all platforms, tickets, notes, consent, and the audited
merge of two customers with its undo. Views are thin: forms check the shape, the actions
(crm.actions; tickets.actions for the merge, which moves the tickets too) decide, and a
refusal is shown with its status, never a 500."""

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from crm import access as crm_access
from crm import actions as crm_actions
from crm.forms import ConsentForm, CustomerNoteForm, MergeForm
from crm.models import Consent, Customer, CustomerMerge, SocialIdentity, normalise_handle
from servicedesk.errors import DomainError
from servicedesk.web import desk_staff_required
from tickets import actions
from tickets.choices import ReplyKind, ReplyStatus, TicketEventKind
from tickets.models import Reply, Ticket, TicketEvent

CUSTOMER_TICKETS_PAGE_SIZE = 20
MERGE_CANDIDATES_LIMIT = 10
HISTORY_LIMIT = 100  # notes and consent records shown on the page


def merge_candidates(customer: Customer, query: str) -> list[Customer]:
    """Active customers other than `customer` whose name contains `query`, whose handle starts
    with it, or whose number it is ("#12" or "12")."""
    query = query.strip()
    if not query:
        return []
    condition = Q(display_name__icontains=query) | Q(
        identities__handle__startswith=normalise_handle(query)
    )
    number = query.lstrip("#")
    if number.isdigit():
        condition |= Q(pk=int(number))
    return list(
        Customer.objects.active()
        .exclude(pk=customer.pk)
        .filter(condition)
        .distinct()
        .order_by("display_name", "pk")
        .prefetch_related(
            Prefetch("identities", queryset=SocialIdentity.objects.order_by("platform", "handle"))
        )[:MERGE_CANDIDATES_LIMIT]
    )


def moderation_history(customer: Customer) -> list[dict[str, Any]]:
    """Netiquette reminders sent to the customer and the hides and blocks of their posts,
    newest first (two queries)."""
    events = (
        TicketEvent.objects.filter(ticket__customer=customer, kind=TicketEventKind.MODERATION)
        .select_related("actor")
        .order_by("-created_at", "-id")[:HISTORY_LIMIT]
    )
    reminders = (
        Reply.objects.filter(
            ticket__customer=customer, kind=ReplyKind.MODERATION, status=ReplyStatus.SENT
        )
        .select_related("author")
        .order_by("-sent_at", "-id")[:HISTORY_LIMIT]
    )
    labels = {"hide": _("Post hidden"), "block": _("Author blocked")}
    rows = [
        {
            "at": event.created_at,
            "label": labels.get(event.data.get("action"), event.get_kind_display()),
            "scope": event.data.get("scope", ""),
            "actor": event.actor,
            "note": event.note,
            "ticket_id": event.ticket_id,
        }
        for event in events
    ]
    rows += [
        {
            "at": reply.sent_at,
            "label": pgettext("reply kind", "Netiquette reminder"),
            "scope": "",
            "actor": reply.author,
            "note": reply.text,
            "ticket_id": reply.ticket_id,
        }
        for reply in reminders
    ]
    return sorted(rows, key=lambda row: row["at"], reverse=True)[:HISTORY_LIMIT]


def render_customer_page(
    request: HttpRequest,
    customer: Customer,
    *,
    status: int = 200,
    note_form: CustomerNoteForm | None = None,
    consent_form: ConsentForm | None = None,
) -> HttpResponse:
    """The customer page; a constant number of queries whatever the number of tickets."""
    tickets = (
        Ticket.objects.filter(customer=customer)
        .select_related("channel", "assignee")
        .order_by("-opened_at", "-pk")
    )
    page = Paginator(tickets, CUSTOMER_TICKETS_PAGE_SIZE).get_page(request.GET.get("page"))
    find = request.GET.get("find", "")
    merges = (
        CustomerMerge.objects.filter(Q(source=customer) | Q(target=customer))
        .select_related("source", "target", "actor", "undone_by")
        .order_by("-created_at", "-pk")
    )
    context = {
        "customer": customer,
        "identities": list(customer.identities.order_by("platform", "handle")),
        "page": page,
        "tickets": list(page.object_list),
        "notes": list(customer.notes.select_related("author")[:HISTORY_LIMIT]),
        "current_consents": list(
            Consent.objects.filter(customer=customer).current().select_related("actor")
        ),
        "consent_history": list(
            customer.consents.select_related("actor").order_by("-created_at", "-pk")[:HISTORY_LIMIT]
        ),
        "merges": list(merges),
        "moderation": moderation_history(customer),
        "note_form": note_form or CustomerNoteForm(),
        "consent_form": consent_form or ConsentForm(),
        "may_merge": crm_access.may_merge_customers(request.user),
        "find": find,
        "candidates": merge_candidates(customer, find)
        if crm_access.may_merge_customers(request.user)
        else [],
    }
    return render(request, "tickets/customer_detail.html", context, status=status)


def _refused(request: HttpRequest, customer: Customer, error: DomainError, **forms: Any) -> Any:
    messages.error(request, str(error.detail))
    return render_customer_page(request, customer, status=error.status, **forms)


@desk_staff_required
@require_GET
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render_customer_page(request, crm_access.get_customer_for_user(request.user, pk))


@desk_staff_required
@require_POST
def customer_add_note(request: HttpRequest, pk: int) -> HttpResponse:
    customer = crm_access.get_customer_for_user(request.user, pk)
    form = CustomerNoteForm(request.POST)
    if not form.is_valid():
        return render_customer_page(request, customer, status=400, note_form=form)
    try:
        crm_actions.add_customer_note(customer, actor=request.user, text=form.cleaned_data["text"])
    except DomainError as error:
        return _refused(request, customer, error, note_form=form)
    messages.success(request, _("Note added."))
    return redirect("tickets:customer_detail", pk=customer.pk)


@desk_staff_required
@require_POST
def customer_record_consent(request: HttpRequest, pk: int) -> HttpResponse:
    customer = crm_access.get_customer_for_user(request.user, pk)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return render_customer_page(request, customer, status=400, consent_form=form)
    try:
        crm_actions.record_consent(customer, actor=request.user, **form.cleaned_data)
    except DomainError as error:
        return _refused(request, customer, error, consent_form=form)
    messages.success(request, _("Consent recorded."))
    return redirect("tickets:customer_detail", pk=customer.pk)


@desk_staff_required
@require_POST
def customer_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge the customer named in the form (`source`) into this one."""
    target = crm_access.get_customer_for_user(request.user, pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the customer to merge into this one."))
        return render_customer_page(request, target, status=400)
    source = Customer.objects.filter(pk=form.cleaned_data["source"]).first()
    if source is None:
        messages.error(request, _("This customer does not exist."))
        return render_customer_page(request, target, status=400)
    try:
        actions.merge_customers(source, target, actor=request.user)
    except DomainError as error:
        return _refused(request, target, error)
    messages.success(
        request,
        _("%(source)s was merged into this customer.") % {"source": str(source)},
    )
    return redirect("tickets:customer_detail", pk=target.pk)


@desk_staff_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_object_or_404(CustomerMerge.objects.select_related("source", "target"), pk=pk)
    try:
        actions.undo_merge(merge, actor=request.user)
    except DomainError as error:
        return _refused(
            request, crm_access.get_customer_for_user(request.user, merge.target_id), error
        )
    messages.success(request, _("The merge was undone."))
    return redirect("tickets:customer_detail", pk=merge.source_id)
