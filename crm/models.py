"""Customers, their social identities across platforms, consent records and customer notes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.choices import BlockScope, ConsentPurpose, ConsentStatus


def normalise_handle(handle: str) -> str:
    """Identity key of a handle: lower-case, surrounding space and one leading @ removed."""
    handle = handle.strip().lower()
    return handle[1:] if handle.startswith("@") else handle


class CustomerQuerySet(models.QuerySet["Customer"]):
    def active(self) -> "CustomerQuerySet":
        """Customers not merged into another one."""
        return self.filter(merged_into__isnull=True)


class Customer(models.Model):
    """A person or organisation the desk talks to, across all their social identities.

    A merged customer keeps its row (`merged_into` set) so the merge can be undone.
    """

    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_customers"
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.display_name or f"#{self.pk}"


class SocialIdentity(models.Model):
    """One account of a customer on one platform (or on one webhook/RSS/demo channel).

    Keyed by (platform, platform_user_id) when the id is known, else by (platform, handle);
    `platform` holds "channel:<slug>" where the channel stands in for the platform.
    """

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="identities")
    platform = models.CharField(_("platform"), max_length=128)
    platform_user_id = models.CharField(_("platform user id"), max_length=255, blank=True)
    handle = models.CharField(_("handle"), max_length=255)  # normalised: lower-case, no @
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    # Moderation's last resort (tickets.actions.block_author through crm.actions.mark_blocked).
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    block_scope = models.CharField(
        _("blocked where"), max_length=16, choices=BlockScope.choices, blank=True
    )

    class Meta:
        verbose_name = _("social identity")
        verbose_name_plural = _("social identities")
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "platform_user_id"],
                condition=~Q(platform_user_id=""),
                name="identity_unique_platform_user_id",
            ),
            models.UniqueConstraint(
                fields=["platform", "handle"],
                condition=Q(platform_user_id=""),
                name="identity_unique_handle_without_id",
            ),
        ]
        indexes = [
            models.Index(fields=["platform", "handle"], name="identity_platform_handle"),
            # "Is the author blocked?" on every row of the ticket lists: the few blocked
            # identities by customer, instead of a scan of all identities.
            models.Index(
                fields=["customer"],
                name="identity_blocked_customer",
                condition=Q(blocked_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle} ({self.platform})"


class ConsentQuerySet(models.QuerySet["Consent"]):
    def current(self) -> "ConsentQuerySet":
        """The newest record per (customer, purpose): the consent in force."""
        return self.order_by("customer_id", "purpose", "-created_at", "-id").distinct(
            "customer_id", "purpose"
        )

    def granted_to(self, customer_ids: set[int], purpose: str) -> set[int]:
        """Of `customer_ids`, those whose consent in force for `purpose` is granted (one
        query)."""
        if not customer_ids:
            return set()
        rows = (
            self.filter(customer_id__in=customer_ids, purpose=purpose)
            .current()
            .values_list("customer_id", "status")
        )
        return {customer_id for customer_id, status in rows if status == ConsentStatus.GRANTED}


class Consent(models.Model):
    """One consent event (append-only): granted or withdrawn for a purpose, with its source."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=32, choices=ConsentPurpose.choices)
    status = models.CharField(_("status"), max_length=16, choices=ConsentStatus.choices)
    source = models.CharField(_("source"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("created at"))

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        indexes = [models.Index(fields=["customer", "purpose", "-created_at"], name="consent_hist")]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.status}"


class CustomerNote(models.Model):
    """An internal note about a customer, visible to the staff."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("customer note")
        verbose_name_plural = _("customer notes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"note #{self.pk}"


class CustomerMerge(models.Model):
    """An audited merge of `source` into `target`; `undone_at` is set when it was reversed.

    `moved` records the ids of what moved (identities, tickets, notes, consents) for the undo.
    """

    source = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    target = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"))
    moved = models.JSONField(default=dict)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")

    def __str__(self) -> str:
        return f"merge {self.source_id} → {self.target_id}"
