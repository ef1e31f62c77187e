"""The data protection pages: open erasures, and per customer what is stored and on which
basis, the export (Art. 15), the erasure request and its confirmation by a second person
(Art. 17), and who looked at the customer. Team leads, privacy officers and superusers."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm.models import Consent, Customer
from monitoring.models import Mention
from privacy import access
from privacy.actions import audit, erasure, export
from privacy.actions.retention import apply_retention
from privacy.choices import AccessKind, ErasureStatus
from privacy.models import ErasureRequest, RetentionPolicy
from servicedesk.errors import DomainError
from servicedesk.web import note_access
from tickets.models import Ticket

AUDIT_ROWS = 50


def privacy_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not access.may_handle_requests(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@privacy_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    erasures = ErasureRequest.objects.select_related(
        "customer", "requested_by", "confirmed_by"
    ).order_by("-requested_at", "-pk")[:100]
    return render(request, "privacy/home.html", {"erasures": list(erasures)})


@privacy_required
@require_GET
def retention(request: HttpRequest) -> HttpResponse:
    """The retention policies and a dry run of the sweep: what would go now (changes nothing;
    one count per policy)."""
    report = apply_retention(now=timezone.now(), dry_run=True)
    policies = [
        {"policy": policy, "due": report.due.get(policy.kind, 0)}
        for policy in RetentionPolicy.objects.order_by("kind")
    ]
    return render(request, "privacy/retention.html", {"policies": policies})


@privacy_required
@require_GET
def customer(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Customer, pk=pk)
    stored = {
        "identities": person.identities.count(),
        "mentions": Mention.objects.filter(identity__customer=person).count(),
        "tickets": Ticket.objects.filter(customer=person).count(),
        "notes": person.notes.count(),
    }
    context = {
        "customer": person,
        "stored": stored,
        "identities": list(person.identities.order_by("platform", "handle")),
        "consents": list(Consent.objects.current().filter(customer=person).select_related("actor")),
        "erasures": list(
            ErasureRequest.objects.filter(customer=person)
            .select_related("requested_by", "confirmed_by")
            .order_by("-requested_at")
        ),
        "views": list(audit.entries(customer_id=person.pk)[:AUDIT_ROWS]),
        "open_statuses": (ErasureStatus.REQUESTED,),
    }
    note_access(request, AccessKind.CUSTOMER_PAGE, customer_ids=[person.pk])
    return render(request, "privacy/customer.html", context)


@privacy_required
@require_POST
def customer_export(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Customer, pk=pk)
    now = timezone.now()
    note_access(request, AccessKind.EXPORT, customer_ids=[person.pk])
    if request.POST.get("format") == "html":
        response = StreamingHttpResponse(
            export.html_chunks(person, generated_at=now), content_type="text/html"
        )
        response["Content-Disposition"] = f'attachment; filename="customer-{person.pk}.html"'
    else:
        response = StreamingHttpResponse(
            export.json_chunks(person, generated_at=now), content_type="application/json"
        )
        response["Content-Disposition"] = f'attachment; filename="customer-{person.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@privacy_required
@require_POST
def customer_erasure(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(Customer, pk=pk)
    try:
        erasure.request_erasure(
            person, request.user, reason=request.POST.get("reason", ""), now=timezone.now()
        )
    except DomainError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Erasure requested; a second person must confirm it."))
    return redirect("privacy:customer", pk=person.pk)


@privacy_required
@require_POST
def erasure_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(ErasureRequest, pk=pk)
    try:
        done = erasure.confirm_erasure(found.pk, request.user, now=timezone.now())
    except DomainError as refused:
        messages.error(request, str(refused))
    else:
        rows = sum(done.counts.values())
        messages.success(request, _("Erasure done: %(rows)s rows changed.") % {"rows": rows})
    return redirect("privacy:customer", pk=found.customer_id)


@privacy_required
@require_POST
def erasure_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    found = get_object_or_404(ErasureRequest, pk=pk)
    try:
        erasure.cancel_erasure(found.pk, request.user)
    except DomainError as refused:
        messages.error(request, str(refused))
    return redirect("privacy:customer", pk=found.customer_id)
