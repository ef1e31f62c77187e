"""Links from outside (platforms, feeds, bridges) that the desk stores and renders: only
absolute http and https URLs. Anything else (`javascript:`, `data:`, relative or
protocol-relative paths, control characters) would become a clickable link on a ticket page."""

from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
URL_MAX_CHARS = 2048


def is_web_url(value: str) -> bool:
    """An absolute http(s) URL with a host, without whitespace or control characters."""
    if not value or len(value) > URL_MAX_CHARS:
        return False
    if any(
        character.isspace() or ord(character) < 32 or ord(character) == 127 for character in value
    ):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)
