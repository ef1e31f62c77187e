"""Fill a reply template's placeholders for one ticket (pure apart from reading names)."""

from typing import Any

PLACEHOLDERS = ("name", "handle", "agent", "ticket")


class _KeepUnknown(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill_placeholders(text: str, *, name: str, handle: str, agent: str, ticket: str) -> str:
    """Replace {name}, {handle}, {agent} and {ticket}; any other brace text stays as it is."""
    values = _KeepUnknown(name=name, handle=handle, agent=agent, ticket=ticket)
    try:
        return text.format_map(values)
    except (ValueError, IndexError):
        return text  # stray braces in a hand-written template: leave it untouched


def first_name(display_name: str, handle: str) -> str:
    name = display_name.strip().split(" ")[0] if display_name.strip() else ""
    return name or handle.lstrip("@")


def render_template_for(template: Any, *, ticket: Any, actor: Any) -> str:
    mention = ticket.mentions.filter(is_own_account=False).order_by("created_at").first()
    display_name = mention.author_display_name if mention else ticket.customer.display_name
    handle = mention.author_handle if mention else ""
    handle = handle if handle.startswith("@") or not handle else "@" + handle
    return fill_placeholders(
        template.text,
        name=first_name(display_name, handle),
        handle=handle,
        agent=actor.get_short_name() or actor.get_username(),
        ticket=str(ticket.pk),
    )
