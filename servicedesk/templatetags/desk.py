"""Template helpers of the browser workspace: role navigation, SLA countdowns, times in the
user's time zone and bidi-isolated user text."""

from datetime import datetime
from typing import Any

from django import template
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from servicedesk import roles
from servicedesk.web import LIST_COUNT_CAP

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context: template.Context, url_name: str, label: str, shortcut: str = "") -> str:
    """A navigation link, marked current on its own page. A URL name that does not exist is
    an error (NoReverseMatch), never a silently missing link."""
    href = reverse(url_name)
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    current = match is not None and match.view_name == url_name
    return format_html(
        '<a class="nav-link{}" href="{}"{}{}>{}</a>',
        " is-current" if current else "",
        href,
        SafeString(' aria-current="page"') if current else "",
        format_html(' data-shortcut="{}"', shortcut) if shortcut else "",
        label,
    )


@register.simple_tag
def user_roles(user: Any) -> dict[str, bool]:
    """The role flags the navigation needs, from one read of the user's groups."""
    return {
        "cm": roles.is_community_manager(user),
        "agent": roles.is_support_agent(user),
        "lead": roles.is_team_lead(user),
        "privacy": roles.is_team_lead(user) or roles.is_privacy_officer(user),
        "expert": roles.is_department_expert(user),
        "staff": roles.is_desk_staff(user) or bool(getattr(user, "is_superuser", False)),
    }


@register.filter
def bdi(value: Any) -> str:
    """User-written text, escaped and isolated from the surrounding text direction."""
    if value is None or value == "":
        return ""
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def localtime_short(value: datetime | None) -> str:
    """A datetime in the active (the user's) time zone: `dd.mm.yyyy HH:MM`."""
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%d.%m.%Y %H:%M")


@register.filter
def age(value: datetime | None) -> str:
    """How long ago, the largest unit only ("5 minutes")."""
    if value is None:
        return ""
    return timesince(value, timezone.now(), depth=1)


def _remaining_text(seconds: float) -> str:
    overdue = seconds < 0
    seconds = abs(int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 24:
        text = f"{hours // 24}d {hours % 24}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    else:
        text = f"{minutes}:{secs:02d}"
    return f"−{text}" if overdue else text


@register.simple_tag
def sla_countdown(due_at: datetime | None, warn_at: datetime | None = None) -> str:
    """A live SLA countdown (desk.js ticks it): normal, at risk (past the warning time) or
    breached (past the deadline), each with an icon and a word, not colour alone."""
    if due_at is None:
        return format_html('<span class="sla sla-none">{}</span>', _("no deadline"))
    now = timezone.now()
    remaining = (due_at - now).total_seconds()
    if remaining < 0:
        level, word = "breached", _("breached")
    elif warn_at is not None and now >= warn_at:
        level, word = "at-risk", _("at risk")
    else:
        level, word = "ok", _("due in")
    return format_html(
        '<span class="sla sla-{}" data-due="{}" data-warn="{}" '
        'data-label-ok="{}" data-label-risk="{}" data-label-breached="{}" title="{}">'
        "{}{}{} "
        '<span class="sla-word">{}</span> <span class="sla-time">{}</span></span>',
        level,
        due_at.isoformat(),
        warn_at.isoformat() if warn_at else "",
        _("due in"),
        _("at risk"),
        _("breached"),
        localtime_short(due_at),
        icon("clock", "i-ok"),
        icon("warning", "i-risk"),
        icon("breached", "i-breached"),
        word,
        _remaining_text(remaining),
    )


ICONS: dict[str, str] = {
    "bell": '<path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9"/>'
    '<path d="M13.7 21a2 2 0 0 1-3.4 0"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
    "warning": '<path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 '
    '0-3.4 0z"/><path d="M12 9v4M12 17h.01"/>',
    "breached": '<path d="M7.9 2h8.2L22 7.9v8.2L16.1 22H7.9L2 16.1V7.9z"/>'
    '<path d="M15 9l-6 6M9 9l6 6"/>',
    "lock": '<rect x="4" y="11" width="16" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
    "eye": '<path d="M1 12s4-8 11-8 11 8 11 8-4 8-11 8S1 12 1 12z"/>'
    '<circle cx="12" cy="12" r="3"/>',
    "pencil": '<path d="M17 3a2.8 2.8 0 0 1 4 4L7.5 20.5 2 22l1.5-5.5z"/>',
    "check": '<path d="M20 6 9 17l-5-5"/>',
}


@register.simple_tag
def icon(name: str, extra_class: str = "") -> str:
    """An inline SVG icon from our own set (no icon font, no emoji: both may be missing)."""
    return format_html(
        '<svg class="icon icon-{} {}" viewBox="0 0 24 24" width="16" height="16" fill="none" '
        'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" '
        'aria-hidden="true" focusable="false">{}</svg>',
        name,
        extra_class,
        SafeString(ICONS[name]),
    )


@register.filter
def get_item(mapping: dict[Any, Any] | None, key: Any) -> Any:
    """`mapping[key]` in a template (None when missing)."""
    if not mapping:
        return None
    return mapping.get(key)


@register.filter
def list_count(count: int) -> str:
    """A list's count from `servicedesk.web.capped_count`: the number, or "1,000+" past the
    cap."""
    if count > LIST_COUNT_CAP:
        return formats.number_format(LIST_COUNT_CAP, force_grouping=True) + "+"
    return formats.number_format(count)
