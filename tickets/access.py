"""Who may see which ticket, reply, mention and department request, and who may do what with
them: one place for the pages, the API and the actions alike.

Visibility (DESIGN §1): missing and not-yours look the same (404), so ids cannot be probed.
Capabilities ("may this person draft, review, moderate …") are predicates on the user's
roles, asked through servicedesk.roles; an action refuses with 403 when one says no, and a
page offers only what they allow. Who may fire a transition is the transition table's
(`tickets.transitions`).
"""

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from knowledge.access import Departments
from monitoring.models import Mention
from servicedesk import roles
from tickets.models import Department, DepartmentRequest, Incident, Reply, Ticket

# --------------------------------------------------------------------------- visibility


def visible_tickets(user: Any) -> QuerySet[Ticket]:
    return Ticket.objects.visible_to(user)


def get_ticket_for_user(user: Any, ticket_id: int) -> Ticket:
    """The ticket if `user` may see it; otherwise Http404."""
    return get_object_or_404(
        visible_tickets(user).select_related("channel", "customer", "assignee"), pk=ticket_id
    )


def visible_replies(user: Any) -> QuerySet[Reply]:
    """Replies of the tickets `user` may see (the same rule as the tickets)."""
    if roles.sees_all_tickets(user):
        return Reply.objects.all()
    return Reply.objects.none()


def visible_mentions(user: Any) -> QuerySet[Mention]:
    """Mentions `user` may read: all for those who see every ticket; for a department expert
    only the mentions shared with requests to his departments; none otherwise."""
    if roles.sees_all_tickets(user):
        return Mention.objects.all()
    if roles.is_department_expert(user):
        shared = DepartmentRequest.objects.visible_to(user).values("shared_mentions")
        return Mention.objects.filter(pk__in=shared)
    return Mention.objects.none()


def visible_incidents(user: Any) -> QuerySet[Incident]:
    """Incidents (issue 14) are seen by whoever sees every ticket (api clients read them)."""
    if roles.sees_all_tickets(user):
        return Incident.objects.all()
    return Incident.objects.none()


# --------------------------------------------------------------------------- capabilities


def may_push_mentions(user: Any) -> bool:
    """api_client accounts push mentions (and superusers, for integrations and tests)."""
    return bool(user.is_authenticated and (user.is_superuser or roles.is_api_client(user)))


def may_draft_replies(user: Any) -> bool:
    """CMs, agents and team leads write replies, notes and retries."""
    return roles.is_desk_staff(user)


def may_review_replies(user: Any) -> bool:
    """Human CMs, agents and team leads review replies (never an api_client account)."""
    return roles.is_desk_staff(user) and not roles.is_api_client(user)


def is_asked_to_review(user: Any) -> bool:
    """Who is asked to review: agents and team leads."""
    return roles.is_support_agent(user) or roles.is_team_lead(user)


def may_triage(user: Any) -> bool:
    """The CM's work (the inbox, no-service-case, moderation); team leads too."""
    return roles.is_community_manager(user) or roles.is_team_lead(user)


def may_assign_others(user: Any) -> bool:
    """Team leads take tickets for someone else and reassign them."""
    return roles.is_team_lead(user)


def may_be_assignee(user: Any) -> bool:
    """Agents and team leads own tickets in the Support stage."""
    return roles.is_support_agent(user) or roles.is_team_lead(user)


def may_answer_for_department(user: Any, request: DepartmentRequest) -> bool:
    """Only experts of the request's department answer it."""
    return request.department.experts.filter(pk=user.pk).exists()


def may_change_sla_policies(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False))


# --------------------------------------------------------------------------- knowledge


def knowledge_departments(user: Any) -> Departments:
    """What the information centre needs to know about departments for `user`: every
    department (slug → name) and the slugs of his own (an expert writes their articles and
    reviews proposals for them). Two small queries."""
    own: frozenset[str] = frozenset()
    if roles.is_department_expert(user):
        own = frozenset(Department.objects.filter(experts=user).values_list("slug", flat=True))
    return Departments(
        known=dict(Department.objects.order_by("name").values_list("slug", "name")), own=own
    )
