"""Every write of the crm app: the identities of the authors of incoming mentions (called by
tickets.intake inside its transaction), customer notes, consent records, and the audited
merge of two customers with its undo. Moving a merged customer's tickets is
tickets.actions.customers' part of the merge; it records what it moved here too."""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm import access
from crm.choices import ConsentPurpose, ConsentStatus
from crm.models import (
    Consent,
    Customer,
    CustomerMerge,
    CustomerNote,
    SocialIdentity,
    normalise_handle,
)
from servicedesk.errors import DomainError, InvalidArgument, NotAllowedForRole
from servicedesk.sql import bulk_insert

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
    if not access.may_see_customers(actor):
        raise NotAllowedForRole()


def _ensure_may_merge(actor: Any) -> None:
    if not access.may_merge_customers(actor):
        raise NotAllowedForRole(_("Only team leads and agents merge customers."))


def _lock_customers(*customers: Customer) -> dict[int, Customer]:
    """Lock the customers' rows in primary-key order, always: two merges of the same pair in
    opposite directions would otherwise deadlock."""
    ids = sorted({customer.pk for customer in customers})
    return {
        customer.pk: customer
        for customer in Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class AuthorKey:
    """The author of a post as a platform names them: what an identity is found by."""

    platform_user_id: str
    handle: str  # as posted; normalised here
    display_name: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.platform_user_id.strip(), normalise_handle(self.handle)


def _advisory_key(value: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock."""
    return int.from_bytes(
        hashlib.blake2b(value.encode(), digest_size=8).digest(), "big", signed=True
    )


def lock_identity_keys(platform: str, authors: Sequence[AuthorKey]) -> None:
    """Serialise concurrent intakes of the same authors until the transaction ends (identity
    creation, and the caller's rules that depend on who wrote), taking the locks in a fixed
    order so two batches never deadlock. Call inside the transaction that resolves them."""
    keys = sorted({_advisory_key(f"identity:{platform}:{author.key[1]}") for author in authors})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key ORDER BY key",
            [keys],
        )


def resolve_identities(
    platform: str, authors: Sequence[AuthorKey], *, now: datetime
) -> list[SocialIdentity]:
    """The identity of each author, in order, creating identities (each with a new customer)
    for authors seen for the first time; a constant number of queries for the whole list.

    DESIGN §5: an identity is keyed by (platform, platform user id), else by (platform,
    normalised handle); a platform user id that arrives later attaches to the existing
    handle-only identity. Call inside a transaction, after `lock_identity_keys`."""
    if not authors:
        return []
    pids = {author.key[0] for author in authors} - {""}
    handles = {author.key[1] for author in authors}
    rows = list(
        SocialIdentity.objects.filter(platform=platform).filter(
            Q(platform_user_id__in=pids) | Q(handle__in=handles)
        )
    )
    by_pid = {row.platform_user_id: row for row in rows if row.platform_user_id}
    handle_only = {row.handle: row for row in rows if not row.platform_user_id}
    by_handle: dict[str, SocialIdentity] = {}
    for row in sorted(rows, key=lambda row: row.pk):
        by_handle[row.handle] = row
    result: list[SocialIdentity] = []
    to_create: dict[tuple[str, str], SocialIdentity] = {}
    attach: dict[int, SocialIdentity] = {}
    for author in authors:
        pid, handle = author.key
        identity = by_pid.get(pid) if pid else None
        if identity is None and pid and handle in handle_only:
            identity = handle_only.pop(handle)
            identity.platform_user_id = pid
            attach[identity.pk] = identity
            by_pid[pid] = identity
        if identity is None and not pid:
            identity = handle_only.get(handle) or by_handle.get(handle)
        if identity is None:
            key = (pid, handle if not pid else "")
            identity = to_create.get(key)
            if identity is None:
                identity = SocialIdentity(
                    platform=platform,
                    platform_user_id=pid,
                    handle=handle,
                    display_name=author.display_name[:255],
                    created_at=now,
                )
                to_create[key] = identity
                if pid:
                    by_pid[pid] = identity
                else:
                    handle_only[handle] = identity
        result.append(identity)
    if attach:
        SocialIdentity.objects.bulk_update(list(attach.values()), ["platform_user_id"])
    if to_create:
        customers = [
            Customer(display_name=identity.display_name or identity.handle, created_at=now)
            for identity in to_create.values()
        ]
        bulk_insert(customers)
        for identity, customer in zip(to_create.values(), customers, strict=True):
            identity.customer = customer
        bulk_insert(list(to_create.values()))
    return result


# --------------------------------------------------------------------------- moderation


def mark_blocked(identity_id: int, *, scope: str, at: datetime) -> None:
    """Record that the author behind `identity_id` is blocked (on the platform or on the
    desk only); the moderation action checks who may and records its event. Blocking an
    author blocked already keeps the first moment."""
    SocialIdentity.objects.filter(pk=identity_id, blocked_at__isnull=True).update(
        blocked_at=at, block_scope=scope
    )


# --------------------------------------------------------------------------- notes, consent


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


@transaction.atomic
def merge_customers(source: Customer, target: Customer, *, actor: Any) -> CustomerMerge:
    """Merge `source` into `target`: its identities, notes and consent records move to
    `target`, `source.merged_into` is set, and a CustomerMerge records the moved ids, so
    `undo_merge` can move exactly those back. (The tickets move with
    tickets.actions.merge_customers, which calls this in its transaction.)

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
    moved = {
        "identities": list(source.identities.order_by("pk").values_list("pk", flat=True)),
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
    """Reverse `merge`: exactly the identities, notes and consent records it moved go
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
    """Move the recorded crm rows that still belong to `from_customer` to `to_customer`
    (other kinds in `moved` are the other apps' to move back)."""
    querysets = {
        "identities": SocialIdentity.objects,
        "notes": CustomerNote.objects,
        "consents": Consent.objects,
    }
    for kind, manager in querysets.items():
        ids = moved.get(kind, [])
        if ids:
            manager.filter(pk__in=ids, customer=from_customer).update(customer=to_customer)


@transaction.atomic
def record_moved_with_merge(merge: CustomerMerge, kind: str, ids: list[int]) -> CustomerMerge:
    """Add the ids of another app's rows (`kind`, e.g. "tickets") that moved with `merge`, so
    its undo can move exactly those back."""
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    merge.moved = {**merge.moved, kind: ids}
    merge.save(update_fields=["moved"])
    return merge
