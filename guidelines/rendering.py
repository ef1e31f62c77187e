"""Fill a reply template's placeholders (pure). Which values fill them for a reply on a
ticket is tickets.reply_context's."""

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
