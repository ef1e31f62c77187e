"""Group names and role predicates. Group membership is asked here and nowhere else."""

from typing import Any

from django.contrib.auth.models import AnonymousUser

from servicedesk import lookups
from servicedesk.apps import USER_GROUPS

COMMUNITY_MANAGER = "community_manager"
SUPPORT_AGENT = "support_agent"
TEAM_LEAD = "team_lead"
DEPARTMENT_EXPERT = "department_expert"
API_CLIENT = "api_client"
PRIVACY_OFFICER = "privacy_officer"  # Datenschutz (issue 15; group from privacy/0002)

ALL_GROUPS = (
    COMMUNITY_MANAGER,
    SUPPORT_AGENT,
    TEAM_LEAD,
    DEPARTMENT_EXPERT,
    API_CLIENT,
    PRIVACY_OFFICER,
)
STAFF_GROUPS = (COMMUNITY_MANAGER, SUPPORT_AGENT, TEAM_LEAD)


def group_names(user: Any) -> frozenset[str]:
    """The user's group names, read once per user object and cached on it."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_group_names_cache", None)
    if cached is None:
        # per process too, until a group or a membership changes (servicedesk.lookups)
        cached = lookups.get(
            USER_GROUPS,
            user.pk,
            lambda: frozenset(user.groups.values_list("name", flat=True)),
        )
        user._group_names_cache = cached
    return cached


def in_group(user: Any, name: str) -> bool:
    return name in group_names(user)


def is_community_manager(user: Any) -> bool:
    return in_group(user, COMMUNITY_MANAGER)


def is_support_agent(user: Any) -> bool:
    return in_group(user, SUPPORT_AGENT)


def is_team_lead(user: Any) -> bool:
    return in_group(user, TEAM_LEAD)


def is_department_expert(user: Any) -> bool:
    return in_group(user, DEPARTMENT_EXPERT)


def is_privacy_officer(user: Any) -> bool:
    return in_group(user, PRIVACY_OFFICER)


def is_api_client(user: Any) -> bool:
    return in_group(user, API_CLIENT)


def is_desk_staff(user: Any) -> bool:
    """A human CM, agent or team lead: works on tickets, drafts and approves replies."""
    return bool(group_names(user) & set(STAFF_GROUPS))


def sees_all_tickets(user: Any) -> bool:
    """CMs, agents, team leads, superusers and (to read) api_client accounts see every ticket."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_superuser or is_desk_staff(user) or is_api_client(user))


def may_view_dashboard(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or is_team_lead(user)))


def landing_url_name(user: Any) -> str:
    """Each role lands on its own page."""
    if is_team_lead(user):
        return "tickets:dashboard"
    if is_support_agent(user):
        return "tickets:queue"
    if is_community_manager(user):
        return "tickets:inbox"
    if is_department_expert(user):
        return "tickets:department_inbox"
    if is_privacy_officer(user):
        return "privacy:home"
    if user.is_superuser:
        return "admin:index"
    return "account"
