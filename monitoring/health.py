"""Whether a channel can send (issue 17): what stops it before anyone writes a reply, and
the plain words for a failed delivery.

`send_problems(channel)` lists, in the desk's words, why replies on the channel cannot go
out now: the channel is switched off, its credentials or a configuration value its adapter
needs are missing, or its last delivery failed (the outbox records every outcome on the
channel: `last_send_ok_at`, `last_send_failed_at`, `last_send_error`). The channel health
(admin, API) and the composer show them.

`failure_text(error, channel)` turns an adapter error into a sentence for people ("X hat
die Antwort abgelehnt: …"); the technical message stays in the event's data and the log.

Pure reads: no database writes here (the outbox writes through monitoring.actions).
"""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from monitoring.adapters import adapter_class, capabilities_of
from monitoring.adapters.base import (
    AdapterError,
    AdapterUnauthorized,
    AdapterUnavailable,
    NotSupported,
    OutcomeUnknown,
    PayloadInvalid,
)
from monitoring.adapters.http import RequestRejected, credentials_of
from monitoring.choices import Platform

# Platforms whose direct messages are addressed by the recipient's platform user id.
PRIVATE_NEEDS_USER_ID = frozenset({Platform.TWITTER, Platform.FACEBOOK})


def _adapter_attribute(channel: Any, name: str, default: Any) -> Any:
    """What the channel's adapter class declares (its label, config key, need of a token)."""
    try:
        return getattr(adapter_class(channel.platform), name, default)
    except (ImportError, KeyError):
        return default


@dataclass(frozen=True)
class SendHealth:
    problems: tuple[str, ...]

    @property
    def can_send(self) -> bool:
        return not self.problems

    @property
    def summary(self) -> str:
        """ "Dieser Kanal kann nicht senden: …", or "" when it can."""
        if self.can_send:
            return ""
        return _("This channel cannot send: %(problems)s") % {"problems": " · ".join(self.problems)}


def platform_name(channel: Any) -> str:
    """The platform as people call it ("X"), or the channel's name for bridges and feeds."""
    return _adapter_attribute(channel, "label", "") or channel.name


def posts_itself(channel: Any) -> bool:
    """Whether the channel's adapter posts replies at all (RSS replies are posted by hand)."""
    return bool({"reply_public", "reply_private"} & capabilities_of(channel))


def setup_problems(channel: Any) -> list[str]:
    """What the channel's set-up lacks for sending (nothing for hand-posted channels)."""
    if not posts_itself(channel):
        return []
    problems = []
    needs_token = _adapter_attribute(channel, "needs_access_token", False)
    if needs_token and not credentials_of(channel).get("access_token"):
        problems.append(_("no credentials are stored"))
    key = _adapter_attribute(channel, "config_key", "")
    if key and not str((channel.config or {}).get(key) or ""):
        problems.append(_("the configuration lacks %(key)s") % {"key": key})
    if channel.platform == Platform.MASTODON and not channel.base_url:
        problems.append(_("the instance URL is missing"))
    if channel.platform == Platform.WEBHOOK:
        if not channel.callback_url:
            problems.append(_("the callback URL is missing"))
        if not channel.webhook_secret:
            problems.append(_("the signing secret is missing"))
    return problems


def last_send_failed(channel: Any) -> bool:
    failed, ok = channel.last_send_failed_at, channel.last_send_ok_at
    return failed is not None and (ok is None or ok < failed)


def send_health(channel: Any) -> SendHealth:
    """Why replies on `channel` cannot go out now (empty: it can send)."""
    problems = []
    if not channel.is_active:
        problems.append(_("the channel is switched off"))
    problems += setup_problems(channel)
    if last_send_failed(channel):
        problems.append(
            _("its last delivery failed: %(error)s") % {"error": channel.last_send_error}
        )
    return SendHealth(tuple(problems))


def private_reply_problem(
    channel: Any, *, platform_user_id: str, is_private_conversation: bool
) -> str | None:
    """Why a direct message to this author cannot be sent (None if it can): X and Facebook
    address direct messages by the platform's user id (Facebook's private reply to a comment
    needs none)."""
    if channel.platform not in PRIVATE_NEEDS_USER_ID or platform_user_id:
        return None
    if channel.platform == Platform.FACEBOOK and not is_private_conversation:
        return None
    return _(
        "A direct message needs the author's user id on %(platform)s, which is unknown for "
        "this author; answer in public and ask them to write a direct message."
    ) % {"platform": platform_name(channel)}


def failure_text(error: AdapterError, channel: Any, *, attempts: int = 0) -> str:
    """A failed delivery in plain words, never an exception's name."""
    platform = platform_name(channel)
    if isinstance(error, AdapterUnauthorized):
        reason = _("access refused; the channel's credentials are missing, wrong or revoked.")
    elif isinstance(error, RequestRejected):
        reason = _("the platform refused the request (HTTP %(status)s).") % {"status": error.status}
    elif isinstance(error, OutcomeUnknown):
        return _(
            "%(platform)s did not answer after the reply was sent; it may have been posted. "
            "Check on the platform before retrying."
        ) % {"platform": platform}
    elif isinstance(error, AdapterUnavailable):
        return _("%(platform)s could not be reached (attempt %(attempts)s).") % {
            "platform": platform,
            "attempts": attempts or 1,
        }
    elif isinstance(error, PayloadInvalid):
        reason = _("its answer could not be read; check on the platform whether it was posted.")
    elif isinstance(error, NotSupported):
        reason = _("this channel cannot send this reply (its set-up is incomplete).")
    else:
        reason = _("the delivery failed.")
    return _("%(platform)s refused the reply: %(reason)s") % {
        "platform": platform,
        "reason": reason,
    }
