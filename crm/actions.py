"""Every write of the crm app from the browser: customer notes, consent records, and the
audited merge of two customers with its undo. (Identities are resolved by tickets.intake.)"""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import ConsentPurpose, ConsentStatus
from crm.models import Consent, Customer, CustomerMerge, CustomerNote, SocialIdentity
from servicedesk import roles
from servicedesk.errors import DomainError, InvalidArgument, NotAllowedForRole

CONSENT_SOURCE_MAX_LENGTH = 255  # Consent.source


class CustomerAlreadyMerged(DomainError):
    code = "customer_merged"
    status = 409
    default_detail = gettext_lazy("This customer was merged into another customer.")


class MergeAlreadyUndone(DomainError):
    code = "merge_undone"
    status = 409
    default_detail = gettext_lazy("This merge has already been undone.")


def _ensure_desk_staff(actor: Any) -> None:
    if not (roles.is_desk_staff(actor) or getattr(actor, "is_superuser", False)):
        raise NotAllowedForRole()


def _ensure_may_merge(actor: Any) -> None:
    if not (roles.is_team_lead(actor) or roles.is_support_agent(actor)):
        raise NotAllowedForRole(_("Only team leads and agents merge customers."))


def _lock_customers(*customers: Customer) -> dict[int, Customer]:
    """Lock the customers' rows in primary-key order, always: two merges of the same pair in
    opposite directions would otherwise deadlock."""
    ids = sorted({customer.pk for customer in customers})
    return {
        customer.pk: customer
        for customer in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


@transaction.atomic
def add_customer_note(customer: Customer, *, actor: Any, text: str) -> CustomerNote:
    """An internal note about `customer`, visible to the staff.

    Refuses NotAllowedForRole (anyone but CMs, agents, team leads and superusers),
    InvalidArgument (empty text) and CustomerAlreadyMerged (notes go to the merge target).
    """
    _ensure_desk_staff(actor)
    text = (text or "").strip()
    if not text:
        raise InvalidArgument(_("This field is required."), field="text")
    if customer.merged_into_id is not None:
        raise CustomerAlreadyMerged()
    return CustomerNote.objects.create(
        customer=customer, author=actor, text=text, created_at=timezone.now()
    )


@transaction.atomic
def record_consent(
    customer: Customer, *, purpose: str, status: str, source: str, actor: Any
) -> Consent:
    """Append a consent record (granted or withdrawn for a purpose, with its source); the
    newest record per purpose is the consent in force. `actor=None` is the system.

    Refuses NotAllowedForRole (a person who is not desk staff), InvalidArgument (unknown
    purpose or status, a too long source) and CustomerAlreadyMerged.
    """
    if actor is not None:
        _ensure_desk_staff(actor)
    if purpose not in ConsentPurpose.values:
        raise InvalidArgument(_("Unknown purpose."), field="purpose")
    if status not in ConsentStatus.values:
        raise InvalidArgument(_("Unknown consent status."), field="status")
    source = (source or "").strip()
    if len(source) > CONSENT_SOURCE_MAX_LENGTH:
        raise InvalidArgument(_("The source is too long."), field="source")
    if customer.merged_into_id is not None:
        raise CustomerAlreadyMerged()
    return Consent.objects.create(
        customer=customer,
        purpose=purpose,
        status=status,
        source=source,
        actor=actor,
        created_at=timezone.now(),
    )


def _ticket_model() -> Any:
    # crm is the base app and does not import tickets at module level; a merge still has to
    # move the customer's tickets, so the model is looked up here.
    from tickets.models import Ticket

    return Ticket


@transaction.atomic
def merge_customers(source: Customer, target: Customer, *, actor: Any) -> CustomerMerge:
    """Merge `source` into `target`: its identities, tickets, notes and consent records move to
    `target`, `source.merged_into` is set, and a CustomerMerge records the moved ids, so
    `undo_merge` can move exactly those back.

    Refuses NotAllowedForRole (anyone but team leads and agents), InvalidArgument (a customer
    into itself) and CustomerAlreadyMerged (either side already merged into another one).
    """
    _ensure_may_merge(actor)
    if source.pk == target.pk:
        raise InvalidArgument(_("A customer cannot be merged into itself."), field="target")
    locked = _lock_customers(source, target)
    source, target = locked[source.pk], locked[target.pk]
    if source.merged_into_id is not None or target.merged_into_id is not None:
        raise CustomerAlreadyMerged()
    ticket_model = _ticket_model()
    moved = {
        "identities": list(source.identities.order_by("pk").values_list("pk", flat=True)),
        "tickets": list(
            ticket_model.objects.filter(customer=source).order_by("pk").values_list("pk", flat=True)
        ),
        "notes": list(source.notes.order_by("pk").values_list("pk", flat=True)),
        "consents": list(source.consents.order_by("pk").values_list("pk", flat=True)),
    }
    _move(moved, from_customer=source, to_customer=target)
    source.merged_into = target
    source.save(update_fields=["merged_into"])
    return CustomerMerge.objects.create(
        source=source, target=target, actor=actor, created_at=timezone.now(), moved=moved
    )


@transaction.atomic
def undo_merge(merge: CustomerMerge, *, actor: Any) -> CustomerMerge:
    """Reverse `merge`: exactly the identities, tickets, notes and consent records it moved go
    back to the source (what arrived at the target since stays), the source is active again,
    and the merge records who undid it and when.

    Refuses NotAllowedForRole (anyone but team leads and agents), MergeAlreadyUndone and
    CustomerAlreadyMerged (the target was merged on since: undo that merge first).
    """
    _ensure_may_merge(actor)
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise MergeAlreadyUndone()
    locked = _lock_customers(merge.source, merge.target)
    source, target = locked[merge.source_id], locked[merge.target_id]
    if target.merged_into_id is not None:
        raise CustomerAlreadyMerged(_("The customer was merged on since; undo that merge first."))
    _move(merge.moved, from_customer=target, to_customer=source)
    source.merged_into = None
    source.save(update_fields=["merged_into"])
    merge.undone_at = timezone.now()
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by"])
    return merge


def _move(moved: dict[str, list[int]], *, from_customer: Customer, to_customer: Customer) -> None:
    """Move the recorded rows that still belong to `from_customer` to `to_customer`."""
    ticket_model = _ticket_model()
    querysets = {
        "identities": SocialIdentity.objects,
        "tickets": ticket_model.objects,
        "notes": CustomerNote.objects,
        "consents": Consent.objects,
    }
    for kind, manager in querysets.items():
        ids = moved.get(kind, [])
        if ids:
            manager.filter(pk__in=ids, customer=from_customer).update(customer=to_customer)
