"""The ticket's transitions, written once (DESIGN §3.1): for each, its label, its rules
(from which states to which, who may fire it, its guards) and the arguments its action takes.

Everything else derives from this table: the django-fsm transition methods of
`tickets.models.Ticket` (`fsm_rules`), the transition actions (`tickets.actions.TRANSITION_ACTIONS`,
checked against the table by a test), the API's input serializers and its list of names, the
ticket page's labels and forms, and the timeline's labels.

Pure: it imports choices and role predicates only, so the models can use it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, transition

from servicedesk import roles
from tickets.choices import CUSTOMER_REPLY_STATES, ReplyKind, ReplyStatus, TicketState

# --------------------------------------------------------------------------- who may fire
# Predicates (ticket, user) -> bool, django-fsm's `permission=`. Team leads may perform every
# human transition.


def system_only(ticket: Any, user: Any) -> bool:
    """System transitions are never offered to or performed by people."""
    return False


def is_assignee(ticket: Any, user: Any) -> bool:
    return user is not None and ticket.assignee_id is not None and ticket.assignee_id == user.pk


def may_act_as_cm(ticket: Any, user: Any) -> bool:
    return roles.is_community_manager(user) or roles.is_team_lead(user)


def may_act_as_agent(ticket: Any, user: Any) -> bool:
    return roles.is_support_agent(user) or roles.is_team_lead(user)


def may_act_as_assignee(ticket: Any, user: Any) -> bool:
    """The ticket's assignee (an agent), or a team lead."""
    return roles.is_team_lead(user) or (roles.is_support_agent(user) and is_assignee(ticket, user))


def has_sent_answer(ticket: Any) -> bool:
    """Guard of `resolve` and `mark_unsolvable`: a reply of kind answer has been sent."""
    return ticket.replies.filter(status=ReplyStatus.SENT, kind=ReplyKind.ANSWER).exists()


# --------------------------------------------------------------------------- the table


@dataclass(frozen=True)
class Rule:
    """One row of DESIGN §3.1: from `source` to `target`, for whom, under which guards."""

    source: Any  # a state or a tuple of states
    target: Any  # a state, or RETURN_VALUE(...) when the method decides
    permission: Callable[[Any, Any], bool]
    conditions: tuple[Callable[[Any], bool], ...] = ()


@dataclass(frozen=True)
class Argument:
    """A keyword argument of the transition's action; `form_field` names the ticket page's
    form input that carries it (the API uses `name`)."""

    name: str
    required: bool = True
    form_field: str = ""
    lead_only: bool = False  # offered on the page to team leads only (take for someone)

    @property
    def field(self) -> str:
        return self.form_field or self.name


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise
    rules: tuple[Rule, ...]
    arguments: tuple[Argument, ...] = ()
    is_system: bool = False  # never offered to people, refused (403) when they ask
    is_timed: bool = False  # the model method takes the operation's time as `at`

    def asks_for_input(self, *, is_lead: bool) -> bool:
        """Whether the page shows a form before firing (rather than one click)."""
        return any(arg.required or (arg.lead_only and is_lead) for arg in self.arguments)


_REASON = Argument("reason")
_TRANSITIONS = (
    Transition(
        "assign_to_support",
        _("Assign to SoMe Support"),
        (Rule(TicketState.NEW, TicketState.SUPPORT, may_act_as_cm),),
        (Argument("note", required=False, form_field="reason"),),
    ),
    Transition(
        "return_to_cm",
        _("Return to CM"),
        (Rule(TicketState.SUPPORT, TicketState.NEW, may_act_as_agent),),
        (_REASON,),
    ),
    Transition(
        "take",
        _("Take"),
        (Rule(TicketState.SUPPORT, TicketState.IN_PROGRESS, may_act_as_agent),),
        (Argument("assignee", required=False, lead_only=True),),
        is_timed=True,  # the assignment's time (tickets.Ticket.assigned_at)
    ),
    Transition(
        "release",
        _("Release"),
        (Rule(TicketState.IN_PROGRESS, TicketState.SUPPORT, may_act_as_assignee),),
        (_REASON,),
    ),
    Transition(
        "request_private_data",
        _("Ask for a direct message"),
        (Rule(TicketState.IN_PROGRESS, TicketState.WAITING_CUSTOMER, may_act_as_assignee),),
        (
            Argument("text"),
            Argument("template", required=False),
            Argument("in_reply_to_mention", required=False),
        ),
    ),
    Transition(
        "ask_department",
        _("Ask a department"),
        (Rule(TicketState.IN_PROGRESS, TicketState.WAITING_DEPARTMENT, may_act_as_assignee),),
        (Argument("department"), Argument("question"), Argument("shared_mentions", required=False)),
    ),
    Transition(
        "department_answered",
        _("Department answered"),
        (Rule(TicketState.WAITING_DEPARTMENT, TicketState.IN_PROGRESS, system_only),),
        is_system=True,
    ),
    Transition(
        "withdraw_department_request",
        _("Withdraw department request"),
        (Rule(TicketState.WAITING_DEPARTMENT, TicketState.IN_PROGRESS, may_act_as_assignee),),
        (_REASON,),
    ),
    Transition(
        "customer_replied",
        _("Customer replied"),
        (
            Rule(
                CUSTOMER_REPLY_STATES,
                RETURN_VALUE(TicketState.IN_PROGRESS, TicketState.SUPPORT),
                system_only,
            ),
        ),
        is_system=True,
    ),
    # Both: the assignee, or the system after CLOSE_NO_RESPONSE_DAYS (actor=None).
    Transition(
        "close_no_response",
        _("Close (no answer from customer)"),
        (Rule(TicketState.WAITING_CUSTOMER, TicketState.RESOLVED, may_act_as_assignee),),
        is_timed=True,
    ),
    Transition(
        "schedule_resubmission",
        _("Schedule follow-up"),
        (Rule(TicketState.IN_PROGRESS, TicketState.RESUBMISSION, may_act_as_assignee),),
        (Argument("resubmission_on"), Argument("handover_reference", required=False)),
    ),
    Transition(
        "resubmission_due",
        _("Follow-up due"),
        (Rule(TicketState.RESUBMISSION, TicketState.IN_PROGRESS, system_only),),
        is_system=True,
        is_timed=True,
    ),
    # The CM resolves from `new`, the assignee from in_progress and resubmission.
    Transition(
        "resolve",
        _("Resolve"),
        (
            Rule(TicketState.NEW, TicketState.RESOLVED, may_act_as_cm, (has_sent_answer,)),
            Rule(
                (TicketState.IN_PROGRESS, TicketState.RESUBMISSION),
                TicketState.RESOLVED,
                may_act_as_assignee,
                (has_sent_answer,),
            ),
        ),
        is_timed=True,
    ),
    Transition(
        "mark_unsolvable",
        _("Mark unsolvable"),
        (
            Rule(
                TicketState.IN_PROGRESS,
                TicketState.UNSOLVABLE,
                may_act_as_assignee,
                (has_sent_answer,),
            ),
        ),
        (Argument("topic"),),
        is_timed=True,
    ),
    Transition(
        "dismiss",
        _("Dismiss"),
        (Rule(TicketState.NEW, TicketState.DISMISSED, may_act_as_cm),),
        (Argument("reason", form_field="dismiss_reason"), Argument("duplicate_of", required=False)),
        is_timed=True,
    ),
    # Agents reopen resolved and unsolvable tickets, CMs dismissed ones.
    Transition(
        "reopen",
        _("Reopen"),
        (
            Rule(TicketState.DISMISSED, TicketState.NEW, may_act_as_cm),
            Rule(
                (TicketState.RESOLVED, TicketState.UNSOLVABLE),
                RETURN_VALUE(TicketState.IN_PROGRESS, TicketState.SUPPORT),
                may_act_as_agent,
            ),
        ),
        (_REASON,),
    ),
)

TRANSITIONS: dict[str, Transition] = {spec.name: spec for spec in _TRANSITIONS}
# Offered to people (in the table's order); the system transitions never are.
HUMAN_TRANSITIONS = tuple(spec.name for spec in _TRANSITIONS if not spec.is_system)
SYSTEM_TRANSITIONS = frozenset(spec.name for spec in _TRANSITIONS if spec.is_system)
TIMED_TRANSITIONS = frozenset(spec.name for spec in _TRANSITIONS if spec.is_timed)
# Transitions whose guard is "an answer was sent" (refused as ReplyNotSent).
ANSWER_GUARDED = frozenset(
    spec.name
    for spec in _TRANSITIONS
    if any(has_sent_answer in rule.conditions for rule in spec.rules)
)


def label(name: str) -> Any:
    """The transition's label, or its name if there is no such transition."""
    spec = TRANSITIONS.get(name)
    return spec.label if spec else name


def fsm_rules(field: Any, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The django-fsm `@transition` decorators of `name`, one per rule of the table."""
    spec = TRANSITIONS[name]

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        for rule in reversed(spec.rules):
            method = transition(
                field=field,
                source=rule.source,
                target=rule.target,
                permission=rule.permission,
                conditions=list(rule.conditions),
            )(method)
        return method

    return decorate
