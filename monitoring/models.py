"""Channels (where the desk listens and answers), mentions and their text revisions."""

from datetime import datetime

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.models import normalise_handle
from monitoring.choices import CHANNEL_SCOPED_PLATFORMS, Platform
from servicedesk.fields import EncryptedTextField


class ChannelQuerySet(models.QuerySet["Channel"]):
    def active(self) -> "ChannelQuerySet":
        return self.filter(is_active=True)

    def due_for_poll(self, now: datetime) -> "ChannelQuerySet":
        """Active channels whose next poll has come and that no worker is polling now."""
        return (
            self.active()
            .filter(next_poll_at__lte=now)
            .filter(Q(poll_lease_until__isnull=True) | Q(poll_lease_until__lt=now))
        )


class Channel(models.Model):
    """A place the desk listens to and answers on: an account or page on one platform.

    Credentials and the webhook secret are stored encrypted. Health fields are written by polls.
    """

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=255)
    platform = models.CharField(_("platform"), max_length=32, choices=Platform.choices)
    is_active = models.BooleanField(_("active"), default=True)
    own_accounts = ArrayField(
        models.CharField(max_length=255),
        default=list,
        blank=True,
        verbose_name=_("own accounts"),
        help_text=_("Handles of the company's own accounts on this channel."),
    )
    keywords = ArrayField(
        models.CharField(max_length=255),
        default=list,
        blank=True,
        verbose_name=_("listening keywords"),
    )
    base_url = models.URLField(_("API base URL"), blank=True)
    config = models.JSONField(_("configuration"), default=dict, blank=True)
    credentials = EncryptedTextField(_("credentials"), blank=True)
    callback_url = models.URLField(_("callback URL"), blank=True)
    webhook_secret = EncryptedTextField(_("webhook secret"), blank=True)
    private_replies_need_review = models.BooleanField(
        _("private replies need review"), default=False
    )
    # Issue 15, point 5: store of an author only the handle and the profile link (no display
    # name, no author payload) unless the customer consented (monitoring/minimise.py).
    link_only = models.BooleanField(
        _("link-only mode"),
        default=False,
        db_default=False,
        help_text=_(
            "Store only the author's handle and profile link, not the display name or the "
            "rest of the author payload, unless the customer consented to data processing."
        ),
    )
    poll_interval_seconds = models.PositiveIntegerField(_("poll interval (seconds)"), default=60)
    next_poll_at = models.DateTimeField(_("next poll at"), null=True, blank=True)
    poll_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    cursor = models.TextField(_("cursor"), blank=True)
    last_polled_at = models.DateTimeField(_("last poll"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    is_healthy = models.BooleanField(_("healthy"), default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    lag_seconds = models.FloatField(_("lag (seconds)"), null=True, blank=True)
    # Delivery health, written by the outbox (monitoring.actions.record_send_outcome).
    last_send_ok_at = models.DateTimeField(_("last delivery"), null=True, blank=True)
    last_send_failed_at = models.DateTimeField(_("last failed delivery"), null=True, blank=True)
    last_send_error = models.TextField(_("last delivery error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ChannelQuerySet.as_manager()

    class Meta:
        verbose_name = _("channel")
        verbose_name_plural = _("channels")
        indexes = [
            models.Index(
                fields=["next_poll_at"],
                name="channel_active_next_poll",
                condition=Q(is_active=True),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def identity_platform(self) -> str:
        """The key under which identities of this channel live (DESIGN §5)."""
        if self.platform in CHANNEL_SCOPED_PLATFORMS:
            return f"channel:{self.slug}"
        return self.platform

    def is_own_account(self, handle: str) -> bool:
        wanted = normalise_handle(handle)
        return any(normalise_handle(own) == wanted for own in self.own_accounts)


class MentionQuerySet(models.QuerySet["Mention"]):
    def of_ticket(self, ticket_id: int) -> "MentionQuerySet":
        return self.filter(ticket_id=ticket_id)


class Mention(models.Model):
    """A post, comment, review or direct message from the social web.

    Identified by (channel, external_id): receiving it again changes nothing. The text is
    never overwritten; an edited text is kept as a revision. Rows are written by
    monitoring.actions.mentions only (called by tickets.intake); a trigger of the tickets app
    (migration tickets/0006_report_facts) counts each stored mention in the report facts.
    """

    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="mentions")
    external_id = models.CharField(_("external id"), max_length=255)
    identity = models.ForeignKey(
        "crm.SocialIdentity", null=True, on_delete=models.PROTECT, related_name="mentions"
    )
    author_handle = models.CharField(_("author handle"), max_length=255)
    author_display_name = models.CharField(_("author name"), max_length=255, blank=True)
    author_platform_user_id = models.CharField(max_length=255, blank=True)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("posted at"))  # the platform's timestamp
    received_at = models.DateTimeField(_("received at"))  # when it reached the desk
    url = models.URLField(_("URL"), max_length=2048, blank=True)
    in_reply_to = models.CharField(_("in reply to"), max_length=255, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    ticket = models.ForeignKey(
        "tickets.Ticket", null=True, blank=True, on_delete=models.PROTECT, related_name="mentions"
    )
    is_private = models.BooleanField(_("private"), default=False)
    is_own_account = models.BooleanField(_("own account"), default=False)
    is_hidden = models.BooleanField(_("hidden"), default=False)
    language = models.CharField(_("language"), max_length=16, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    objects = MentionQuerySet.as_manager()

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"], name="mention_unique_channel_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="mention_ticket_time"),
            # A reply arriving before its parent is linked when the parent comes in.
            models.Index(
                fields=["channel", "in_reply_to"],
                name="mention_orphan_replies",
                condition=Q(parent__isnull=True) & ~Q(in_reply_to=""),
            ),
            models.Index(fields=["received_at"], name="mention_received"),
        ]

    def __str__(self) -> str:
        return f"{self.channel.slug}:{self.external_id}"

    @property
    def is_erased(self) -> bool:
        """A tombstone left by an erasure or a retention sweep (issue 15): its raw payload
        holds only the key "erased"."""
        return "erased" in (self.raw or {})


class MentionRevision(models.Model):
    """A different text received later for a known mention (an edit on the platform)."""

    mention = models.ForeignKey(Mention, on_delete=models.CASCADE, related_name="revisions")
    text = models.TextField(_("text"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("mention revision")
        verbose_name_plural = _("mention revisions")

    def __str__(self) -> str:
        return f"revision #{self.pk} of {self.mention_id}"
