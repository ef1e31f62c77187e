"""Who may export, erase and read the access audit (issue 15): team leads, privacy officers
and superusers. Agents, CMs, experts and api_client accounts may not."""

from typing import Any

from servicedesk import roles


def may_handle_requests(user: Any) -> bool:
    """Export a customer's data, request or confirm an erasure, read the access audit."""
    if user is None or not user.is_authenticated or roles.is_api_client(user):
        return False
    return bool(user.is_superuser) or roles.is_team_lead(user) or roles.is_privacy_officer(user)


def may_edit_retention(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_superuser)
