"""The tickets' part of merging two customers: crm.actions merges the customer records
(identities, notes, consent) and audits the merge; the customer's tickets move with it here,
in the same transaction, and are recorded on the merge so its undo moves exactly those back."""

from typing import Any

from django.db import transaction

from crm import actions as crm_actions
from crm.models import Customer, CustomerMerge
from tickets.models import Ticket

MOVED_KIND = "tickets"  # the key of the moved ticket ids in CustomerMerge.moved


@transaction.atomic
def merge_customers(source: Customer, target: Customer, *, actor: Any) -> CustomerMerge:
    """Merge `source` into `target` with everything they have, tickets included.

    Refuses what crm.actions.merge_customers refuses (NotAllowedForRole, InvalidArgument,
    CustomerAlreadyMerged); the customers stay locked until the transaction ends."""
    merge = crm_actions.merge_customers(source, target, actor=actor)
    ticket_ids = list(
        Ticket.objects.filter(customer_id=merge.source_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    Ticket.objects.filter(pk__in=ticket_ids).update(customer_id=merge.target_id)
    return crm_actions.record_moved_with_merge(merge, MOVED_KIND, ticket_ids)


@transaction.atomic
def undo_merge(merge: CustomerMerge, *, actor: Any) -> CustomerMerge:
    """Reverse `merge`: the tickets it moved that are still the target's go back to the
    source, with crm.actions.undo_merge's records. Refuses what that refuses."""
    merge = crm_actions.undo_merge(merge, actor=actor)
    Ticket.objects.filter(
        pk__in=merge.moved.get(MOVED_KIND, []), customer_id=merge.target_id
    ).update(customer_id=merge.source_id)
    return merge
