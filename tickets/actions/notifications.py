"""Notifications: in-app messages to people (and their e-mails, where asked)."""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from monitoring.models import Mention
from servicedesk.errors import NotAllowedForRole
from servicedesk.models import Profile
from servicedesk.queue import enqueue_on_commit
from tickets.choices import NotificationKind
from tickets.models import Notification, Ticket

logger = logging.getLogger(__name__)
User = get_user_model()

SEND_EMAILS_TASK = "tickets.tasks.send_notification_emails_task"
EMAIL_BATCH_SIZE = 500  # notifications e-mailed per sweep run

# A notification's text: a string, or a function that writes it (called once per recipient
# language, under that language, so each person reads it in their own language).
Text = str | Callable[[], str]


def recipient_language(user: Any, languages: dict[int, str] | None = None) -> str:
    """The recipient's profile language (annotated by `group_members`/`users_in_group`, or
    looked up in `languages`), else the desk default."""
    language = getattr(user, "notify_language", None)
    if language is None and languages is not None:
        language = languages.get(user.pk)
    if language is None and type(user).profile.related.is_cached(user):  # select_related
        profile = user._state.fields_cache.get("profile")
        language = profile.language if profile is not None else None
    return language or settings.LANGUAGE_CODE


def written_in(text: Text, language: str) -> str:
    """The text in this language (a plain string is taken as it is)."""
    if not callable(text):
        return str(text)
    with translation.override(language):
        return str(text())


def notify(
    users: Iterable[Any],
    kind: str,
    *,
    text: Text,
    at: datetime,
    ticket: Ticket | None = None,
    dedupe_key: str = "",
    email: bool = False,
    **data: Any,
) -> list[Notification]:
    """Create one in-app notification per user (once per `dedupe_key` and user).

    With `email`, the notifications are also e-mailed after commit (and by the sweep, should
    the broker be down). A callable `text` is written once per recipient language (profile
    language, else the desk default): one query for the languages, whatever the recipients.
    """
    recipients = {user.pk: user for user in users if user is not None}
    if not recipients:
        return []
    languages = dict(
        Profile.objects.filter(user_id__in=list(recipients)).values_list("user_id", "language")
    )
    texts: dict[str, str] = {}
    rows = []
    for user in recipients.values():
        language = recipient_language(user, languages)
        if language not in texts:
            texts[language] = written_in(text, language)
        rows.append(
            Notification(
                user=user,
                kind=kind,
                ticket=ticket,
                text=texts[language],
                created_at=at,
                dedupe_key=dedupe_key,
                data={**data, "email": email},
            )
        )
    created = Notification.objects.bulk_create(rows, ignore_conflicts=bool(dedupe_key))
    if email:
        enqueue_on_commit(SEND_EMAILS_TASK)
    return created


def notification_row(
    user: Any, kind: str, *, ticket_id: int, text: Text, at: datetime, key: str, **data: Any
) -> Notification:
    """An unsaved notification, for the sweeps that create many at once (bulk_create with
    ignore_conflicts on the dedupe key); a callable text is written in the language that
    `group_members` annotated on the user (or its select_related profile)."""
    return Notification(
        user=user,
        kind=kind,
        ticket_id=ticket_id,
        text=written_in(text, recipient_language(user)),
        created_at=at,
        dedupe_key=key,
        data=data,
    )


def users_in_group(name: str) -> list[Any]:
    return list(
        User.objects.filter(groups__name=name, is_active=True).annotate(
            notify_language=F("profile__language")
        )
    )


def group_members(*names: str) -> dict[str, list[Any]]:
    """Active members of each group, in one query."""
    members: dict[str, list[Any]] = {name: [] for name in names}
    for user in User.objects.filter(groups__name__in=names, is_active=True).annotate(
        group_name=F("groups__name"), notify_language=F("profile__language")
    ):
        members[user.group_name].append(user)
    return members


@transaction.atomic
def mark_notification_read(notification: Notification, *, actor: Any) -> Notification:
    if notification.user_id != actor.pk:
        raise NotAllowedForRole()
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def mark_all_notifications_read(*, actor: Any) -> int:
    return Notification.objects.for_user(actor).unread().update(read_at=timezone.now())


def send_pending_notification_emails(*, now: datetime) -> int:
    """E-mail every notification that asks for it and was not e-mailed yet (idempotent:
    each row is claimed by compare-and-set before its mail goes out)."""
    sent = 0
    pending = Notification.objects.filter(data__email=True, data__emailed_at__isnull=True)
    for notification in pending.select_related("user", "ticket")[:EMAIL_BATCH_SIZE]:
        claimed = Notification.objects.filter(
            pk=notification.pk, data__emailed_at__isnull=True
        ).update(data={**notification.data, "emailed_at": now.isoformat()})
        if not claimed or not notification.user.email:
            continue
        subject = f"[Social Service Desk] {notification.get_kind_display()}"
        if notification.ticket_id:
            subject += f" #{notification.ticket_id}"
        try:
            send_mail(subject, notification.text, None, [notification.user.email])
            sent += 1
        except Exception:
            logger.exception("e-mail of notification %s failed", notification.pk)
    return sent


def notify_new_mentions(ticket_ids: list[int], *, now: datetime) -> int:
    """In-app notice to the assignee of each ticket that received new mentions; a direct
    message that arrived is titled as such (two queries, whatever the number of tickets)."""
    latest_private = dict(
        Mention.objects.filter(ticket_id__in=ticket_ids)
        .order_by("ticket_id", "-received_at", "-pk")
        .distinct("ticket_id")
        .values_list("ticket_id", "is_private")
    )
    created = 0
    for ticket in Ticket.objects.filter(pk__in=ticket_ids, assignee__isnull=False).select_related(
        "assignee"
    ):
        if latest_private.get(ticket.pk):
            kind = NotificationKind.DIRECT_MESSAGE
            text = lambda ticket=ticket: (  # noqa: E731
                _("New direct message on ticket #%(ticket)s.") % {"ticket": ticket.pk}
            )
        else:
            kind = NotificationKind.NEW_MESSAGE
            text = lambda ticket=ticket: (  # noqa: E731
                _("New message on ticket #%(ticket)s.") % {"ticket": ticket.pk}
            )
        created += len(notify([ticket.assignee], kind, ticket=ticket, at=now, text=text))
    return created
