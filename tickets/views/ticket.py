"""The ticket view: conversation, customer card, notes, links, timeline, clocks, the
transitions the user may perform now, the reply composer and collision detection.

Views are thin: they check the form's shape and the expected state, call an action and show
its refusal (`DomainError`) as a message with the error's status, never a 500.
"""

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from crm.models import Consent
from guidelines.models import ReplyTemplate
from monitoring.adapters import capabilities_of
from monitoring.choices import REPLY_LENGTH_LIMITS
from monitoring.health import send_health
from monitoring.models import Mention
from servicedesk import roles
from servicedesk.errors import DomainError, InvalidArgument, StaleState
from servicedesk.web import desk_staff_required, form_error_text, safe_next
from tickets import access, actions, presence, transitions
from tickets.choices import (
    DismissReason,
    LinkKind,
    ReplyStatus,
    ReplyStep,
    ReplyVisibility,
    TicketEventKind,
    TicketState,
)
from tickets.forms import (
    ConfirmPostedForm,
    LinkForm,
    NoteForm,
    ReassignForm,
    ReplyEditForm,
    ReplyForm,
    TransitionForm,
)
from tickets.models import Department, Reply, Ticket, Topic
from tickets.reply_context import (
    default_answered_mention,
    guideline_findings,
    render_template_text,
)
from tickets.views import triage_ui

User = get_user_model()


def ticket_version(ticket: Ticket) -> int:
    """The id of the ticket's newest event: changes whenever anyone changes the ticket."""
    return ticket.events.order_by("-id").values_list("id", flat=True).first() or 0


def reply_templates(language: str) -> Any:
    """Active templates in the user's language (German when there are none in it)."""
    templates = ReplyTemplate.objects.active().filter(language=language)
    if language != "de" and not templates.exists():
        templates = ReplyTemplate.objects.active().filter(language="de")
    return templates.order_by("kind", "name")


# ---------------------------------------------------------------------- the page


def _conversation(ticket: Ticket) -> list[dict[str, Any]]:
    mentions = ticket.mentions.select_related("identity").prefetch_related("revisions")
    replies = ticket.replies.select_related("author", "reviewer", "in_reply_to_mention")
    items = [{"type": "mention", "at": mention.created_at, "item": mention} for mention in mentions]
    items += [{"type": "reply", "at": reply.created_at, "item": reply} for reply in replies]
    return sorted(items, key=lambda entry: (entry["at"], entry["type"] == "reply"))


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def _timeline(ticket: Ticket) -> list[dict[str, Any]]:
    rows = []
    for event in ticket.events.select_related("actor"):
        step = event.data.get("step", "")
        if event.kind == TicketEventKind.TRANSITION:
            label = transitions.label(event.transition)
        elif event.kind == TicketEventKind.REPLY and step in ReplyStep.values:
            label = ReplyStep(step).label
        else:
            label = event.get_kind_display()
        rows.append(
            {
                "event": event,
                "label": label,
                "follow_up_on": _day(event.data.get("resubmission_on")),
                "previous_follow_up_on": _day(event.data.get("previous_resubmission_on")),
                "from_state": TicketState(event.from_state).label if event.from_state else "",
                "to_state": TicketState(event.to_state).label if event.to_state else "",
            }
        )
    return rows


def _clocks(ticket: Ticket) -> list[dict[str, Any]]:
    rows = []
    for clock in ticket.clocks.select_related("breach").order_by("started_at", "id"):
        breach = getattr(clock, "breach", None)
        if breach is not None:
            outcome = "breached"
        elif clock.is_cancelled:
            outcome = "cancelled"
        elif clock.stopped_at is not None:
            outcome = "met"
        else:
            outcome = "running"
        rows.append({"clock": clock, "outcome": outcome})
    return rows


def ticket_page_context(
    request: HttpRequest,
    ticket: Ticket,
    *,
    reply_form: ReplyForm | None = None,
    changed_since_opened: bool = False,
    findings: list[Any] | None = None,
) -> dict[str, Any]:
    """Everything the ticket page shows (re-used when a POST re-renders it)."""
    user = request.user
    language = translation.get_language() or "de"
    templates = reply_templates(language[:2])
    customer_mentions = list(
        ticket.mentions.filter(is_own_account=False)
        .select_related("triage")
        .order_by("created_at", "id")
    )
    triage_mention = customer_mentions[0] if customer_mentions else None
    default_mention = default_answered_mention(ticket)
    version = ticket_version(ticket)
    if reply_form is None:
        reply_form = ReplyForm(
            ticket=ticket,
            templates=templates,
            initial={
                "visibility": ReplyVisibility.PRIVATE
                if ticket.is_private
                else ReplyVisibility.PUBLIC,
                "in_reply_to_mention": default_mention.pk if default_mention else None,
                "version": version,
            },
        )
    capabilities = capabilities_of(ticket.channel)
    customer = ticket.customer
    identities = list(customer.identities.all())
    is_lead = roles.is_team_lead(user)
    departments = Department.objects.order_by("name")
    return {
        "ticket": ticket,
        "version": version,
        "conversation": _conversation(ticket),
        "customer": customer,
        "identities": identities,
        "author_blocked": any(identity.blocked_at for identity in identities),
        "earlier_tickets": customer.tickets.exclude(pk=ticket.pk).order_by("-opened_at")[:10],
        "customer_notes": customer.notes.select_related("author").order_by("-created_at")[:5],
        "consents": Consent.objects.filter(customer=customer).current(),
        "notes": ticket.notes.select_related("author"),
        "department_requests": ticket.department_requests.select_related(
            "department", "requested_by", "answered_by"
        ).order_by("created_at"),
        "links_out": ticket.links_out.select_related("to_ticket"),
        "links_in": ticket.links_in.select_related("from_ticket"),
        "timeline": _timeline(ticket),
        "clocks": _clocks(ticket),
        "transitions": [
            {
                "name": name,
                "label": transitions.label(name),
                "has_inputs": transitions.TRANSITIONS[name].asks_for_input(is_lead=is_lead),
            }
            for name in actions.available_transitions(ticket, user)
        ],
        "dismiss_reasons": DismissReason.choices,
        "link_kinds": LinkKind.choices,
        "departments": departments,
        "topics": Topic.objects.order_by("name").values_list("name", flat=True),
        "customer_mentions": customer_mentions,
        "triage_mention": triage_mention,
        "triage_suggestion": triage_ui.suggestion_of(triage_mention),
        "may_correct_triage": triage_ui.may_correct(user),
        **triage_ui.correction_choices(departments),
        "reply_form": reply_form,
        "templates": templates,
        "length_limit": REPLY_LENGTH_LIMITS.get(ticket.channel.platform),
        "capabilities": capabilities,
        "can_post_public": "reply_public" in capabilities,
        "send_health": send_health(ticket.channel),
        "may_mark_no_service_case": ticket.state == TicketState.NEW
        and not ticket.no_service_case
        and access.may_triage(user),
        "may_reassign": access.may_assign_others(user)
        and ticket.assignee_id is not None
        and ticket.is_open,
        "assignees": assignees(),
        "is_lead": is_lead,
        "may_draft": access.may_draft_replies(user) and ticket.is_open,
        "changed_since_opened": changed_since_opened,
        "findings": findings or [],
        "other_viewers": presence.other_viewers(ticket.pk, user, now=timezone.now()),
        "reply_statuses": ReplyStatus,
        "live_since": timezone.now().isoformat(),
        "new_mentions": (),
    }


def render_ticket(
    request: HttpRequest, ticket: Ticket, *, status: int = 200, **kwargs: Any
) -> HttpResponse:
    ticket.refresh_from_db()
    return render(
        request,
        "tickets/ticket_detail.html",
        ticket_page_context(request, ticket, **kwargs),
        status=status,
    )


def refused(
    request: HttpRequest, ticket: Ticket, error: DomainError, **kwargs: Any
) -> HttpResponse:
    """Show a refusal: back to `next` (inbox, queue) or the ticket page with its status."""
    messages.error(request, str(error))
    if request.POST.get("next"):
        return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[ticket.pk])))
    return render_ticket(request, ticket, status=error.status, **kwargs)


@desk_staff_required
@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, pk)
    presence.record_presence(ticket.pk, request.user, is_typing=False, now=timezone.now())
    return render(request, "tickets/ticket_detail.html", ticket_page_context(request, ticket))


# ---------------------------------------------------------------------- transitions


def _visible_other(request: HttpRequest, number: int | None, field: str) -> Ticket | None:
    if number is None:
        return None
    other = Ticket.objects.visible_to(request.user).filter(pk=number).first()
    if other is None:
        raise InvalidArgument(_("Ticket #%(number)s does not exist.") % {"number": number})
    return other


def _transition_arguments(
    request: HttpRequest, ticket: Ticket, name: str, data: dict[str, Any]
) -> dict[str, Any]:
    """The action's arguments of transition `name` from its form (tickets.transitions names
    them and the form fields that carry them); refuses what is missing or unknown."""
    arguments: dict[str, Any] = {}
    for argument in transitions.TRANSITIONS[name].arguments:
        if argument.name == "assignee":
            value = _chosen_assignee(request)
        elif argument.name == "duplicate_of":
            value = _visible_other(request, data["duplicate_of"], "duplicate_of")
        elif argument.field in data:
            value = data[argument.field]
        else:
            continue  # the page does not offer it (a template, the mention answered)
        if argument.name in REQUIRED_CHOICES and value is None:
            raise InvalidArgument(REQUIRED_CHOICES[argument.name], field=argument.name)
        arguments[argument.name] = value
    return arguments


# Inputs the page's form lets one leave empty although the action needs them.
REQUIRED_CHOICES = {
    "department": _lazy("Choose a department."),
    "resubmission_on": _lazy("Choose the follow-up date."),
}


def _chosen_assignee(request: HttpRequest) -> Any:
    if not request.POST.get("assignee"):
        return None
    assignee = User.objects.filter(pk=request.POST["assignee"]).first()
    if assignee is None:
        raise InvalidArgument(_("Unknown assignee."), field="assignee")
    return assignee


def assignees() -> Any:
    """The people a team lead may give a ticket to."""
    return User.objects.filter(
        groups__name__in=[roles.SUPPORT_AGENT, roles.TEAM_LEAD], is_active=True
    ).distinct()


def check_expected_state(ticket: Ticket, expected_state: str) -> None:
    """StaleState if the ticket moved since the form was rendered."""
    if ticket.state != expected_state:
        raise StaleState(expected=expected_state, actual=ticket.state)


@desk_staff_required
@require_POST
def perform_transition(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One human transition with its inputs; refusals become messages (403, 409, 400)."""
    ticket = access.get_ticket_for_user(request.user, pk)
    if name not in actions.TRANSITION_ACTIONS:
        raise Http404
    form = TransitionForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return refused(request, ticket, InvalidArgument(form_error_text(form)))
    try:
        check_expected_state(ticket, form.cleaned_data["expected_state"])
        arguments = _transition_arguments(request, ticket, name, form.cleaned_data)
        actions.TRANSITION_ACTIONS[name](ticket, actor=request.user, **arguments)
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(
        request,
        _("Done: %(transition)s (ticket #%(ticket)s).")
        % {"transition": transitions.label(name), "ticket": ticket.pk},
    )
    return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[ticket.pk])))


@desk_staff_required
@require_POST
def no_service_case(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, pk)
    try:
        check_expected_state(ticket, request.POST.get("expected_state", ""))
        actions.mark_no_service_case(ticket, actor=request.user)
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(request, _("Ticket #%(ticket)s: no service case.") % {"ticket": ticket.pk})
    return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[ticket.pk])))


@desk_staff_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, pk)
    assignees = User.objects.filter(is_active=True)
    form = ReassignForm(request.POST, assignees=assignees)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        check_expected_state(ticket, form.cleaned_data["expected_state"])
        actions.reassign_ticket(ticket, actor=request.user, assignee=form.cleaned_data["assignee"])
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(request, _("Ticket #%(ticket)s reassigned.") % {"ticket": ticket.pk})
    return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[ticket.pk])))


@desk_staff_required
@require_POST
def add_note_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, pk)
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        actions.add_note(ticket, actor=request.user, text=form.cleaned_data["text"])
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(request, _("Note added."))
    return redirect(reverse("tickets:ticket_detail", args=[ticket.pk]) + "#notes")


@desk_staff_required
@require_POST
def link_view(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = access.get_ticket_for_user(request.user, pk)
    form = LinkForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        other = _visible_other(request, form.cleaned_data["other"], "other")
        actions.link_tickets(
            ticket, actor=request.user, other=other, kind=form.cleaned_data["kind"]
        )
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(request, _("Tickets linked."))
    return redirect(reverse("tickets:ticket_detail", args=[ticket.pk]) + "#links")


@desk_staff_required
@require_POST
def topic_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Link the ticket to a topic under observation (repeated demand), by name."""
    ticket = access.get_ticket_for_user(request.user, pk)
    try:
        actions.link_topic(ticket, actor=request.user, topic=request.POST.get("topic", ""))
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(request, _("Linked to the topic."))
    return redirect(reverse("tickets:ticket_detail", args=[ticket.pk]) + "#links")


@desk_staff_required
@require_POST
def moderate(request: HttpRequest, pk: int, operation: str) -> HttpResponse:
    """Hide a mention or block its author on the platform (if the adapter can)."""
    ticket = access.get_ticket_for_user(request.user, pk)
    if operation not in ("hide", "block"):
        raise Http404
    mention = get_object_or_404(Mention, pk=request.POST.get("mention") or 0, ticket=ticket)
    desk_only = operation == "block" and request.POST.get("scope") == "desk"
    try:
        if not desk_only and operation not in capabilities_of(ticket.channel):
            raise InvalidArgument(_("This channel cannot do that."))
        if operation == "hide":
            actions.hide_mention(mention, actor=request.user)
        else:
            actions.block_author(
                mention,
                actor=request.user,
                reason=request.POST.get("reason", ""),
                desk_only=desk_only,
            )
    except DomainError as error:
        return refused(request, ticket, error)
    messages.success(
        request,
        _("The mention was hidden.") if operation == "hide" else _("The author was blocked."),
    )
    return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[ticket.pk])))


# ---------------------------------------------------------------------- collision detection


@desk_staff_required
@require_POST
def presence_ping(request: HttpRequest, pk: int) -> HttpResponse:
    """Pinged every 10 s by the open ticket page: records the viewer (typing or not) and
    answers with who else is there and whether the ticket changed since it was opened."""
    ticket = access.get_ticket_for_user(request.user, pk)
    now = timezone.now()
    presence.record_presence(
        ticket.pk, request.user, is_typing=request.POST.get("typing") == "1", now=now
    )
    try:
        opened_version: int | None = int(request.POST["version"])
    except (KeyError, ValueError):
        opened_version = None
    return render(
        request,
        "tickets/partials/presence.html",
        {
            "ticket": ticket,
            "other_viewers": presence.other_viewers(ticket.pk, request.user, now=now),
            "changed_since_opened": opened_version is not None
            and ticket_version(ticket) != opened_version,
        },
    )


# ---------------------------------------------------------------------- replies


def _reply_form(request: HttpRequest, ticket: Ticket, data: Any = None) -> ReplyForm:
    return ReplyForm(data, ticket=ticket, templates=ReplyTemplate.objects.active())


@desk_staff_required
@require_POST
def create_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Draft a reply, or submit it: public → for approval, private → approved at once unless
    the channel wants private replies reviewed. Warns first if the ticket changed."""
    ticket = access.get_ticket_for_user(request.user, pk)
    form = _reply_form(request, ticket, request.POST)
    if not form.is_valid():
        messages.error(request, form_error_text(form))
        return render_ticket(request, ticket, status=400, reply_form=form)
    data = form.cleaned_data
    if (
        data["version"] is not None
        and ticket_version(ticket) != data["version"]
        and not data["confirm_changed"]
    ):
        resent = request.POST.copy()
        resent["confirm_changed"] = "on"
        form = _reply_form(request, ticket, resent)
        form.is_valid()
        return render_ticket(
            request, ticket, status=409, reply_form=form, changed_since_opened=True
        )
    try:
        reply = actions.create_reply(
            ticket,
            actor=request.user,
            text=data["text"],
            visibility=data["visibility"],
            kind=data["kind"],
            in_reply_to_mention=data["in_reply_to_mention"],
            template=data["template"],
            submit=data["submit"],
            knowledge_uses=data["knowledge_use"],
        )
    except DomainError as error:
        messages.error(request, str(error))
        return render_ticket(request, ticket, status=error.status, reply_form=form)
    messages.success(request, _reply_message(reply))
    return redirect(reverse("tickets:ticket_detail", args=[ticket.pk]) + f"#reply-{reply.pk}")


def _reply_message(reply: Reply) -> str:
    if reply.status == ReplyStatus.PENDING_REVIEW:
        return _("The reply waits for approval by a colleague.")
    if reply.status == ReplyStatus.APPROVED:
        return _("The reply is approved and being sent.")
    return _("Draft saved.")


@desk_staff_required
@require_POST
def check_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The live guideline checks of the composer (htmx, on input)."""
    ticket = access.get_ticket_for_user(request.user, pk)
    visibility = request.POST.get("visibility") or ReplyVisibility.PUBLIC
    if visibility not in ReplyVisibility.values:
        visibility = ReplyVisibility.PUBLIC
    mention = ticket.mentions.filter(pk=_int(request.POST.get("in_reply_to_mention"))).first()
    template = ReplyTemplate.objects.filter(pk=_int(request.POST.get("template"))).first()
    findings = guideline_findings(
        ticket,
        request.POST.get("text", ""),
        visibility=visibility,
        mention=mention,
        template=template,
        actor=request.user,
    )
    return render(request, "tickets/partials/findings.html", {"findings": findings})


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@desk_staff_required
@require_GET
def fill_template(request: HttpRequest, pk: int) -> HttpResponse:
    """The composer's text area filled from a template (htmx, on choosing one)."""
    ticket = access.get_ticket_for_user(request.user, pk)
    template = ReplyTemplate.objects.active().filter(pk=_int(request.GET.get("template"))).first()
    text = request.GET.get("text", "")
    if template is not None:
        mention = ticket.mentions.filter(pk=_int(request.GET.get("in_reply_to_mention"))).first()
        text = render_template_text(template, ticket=ticket, actor=request.user, mention=mention)
    return render(
        request,
        "tickets/partials/composer_text.html",
        {
            "ticket": ticket,
            "text": text,
            "template_kind": template.kind if template else "",
            "length_limit": REPLY_LENGTH_LIMITS.get(ticket.channel.platform),
        },
    )


def _own_reply(request: HttpRequest, pk: int) -> Reply:
    return get_object_or_404(
        access.visible_replies(request.user).select_related("ticket__channel"), pk=pk
    )


@desk_staff_required
@require_POST
def edit_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The author edits a draft (e.g. after a rejection) and may submit it again."""
    reply = _own_reply(request, pk)
    form = ReplyEditForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        reply = actions.edit_reply(reply, actor=request.user, text=form.cleaned_data["text"])
        if form.cleaned_data["submit"]:
            reply = actions.submit_reply(reply, actor=request.user)
    except DomainError as error:
        return refused(request, reply.ticket, error)
    messages.success(request, _reply_message(reply))
    return redirect(reverse("tickets:ticket_detail", args=[reply.ticket_id]) + f"#reply-{reply.pk}")


@desk_staff_required
@require_POST
def retry_reply_view(request: HttpRequest, pk: int) -> HttpResponse:
    reply = _own_reply(request, pk)
    try:
        actions.retry_reply(reply, actor=request.user)
    except DomainError as error:
        return refused(request, reply.ticket, error)
    messages.success(request, _("The reply is being sent again."))
    return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[reply.ticket_id])))


@desk_staff_required
@require_POST
def confirm_posted_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The author confirms a reply he posted by hand (channels without reply capability)."""
    reply = _own_reply(request, pk)
    form = ConfirmPostedForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        actions.confirm_reply_posted(
            reply, actor=request.user, permalink=form.cleaned_data["permalink"]
        )
    except DomainError as error:
        return refused(request, reply.ticket, error)
    messages.success(request, _("The reply is recorded as posted."))
    return redirect(safe_next(request, reverse("tickets:ticket_detail", args=[reply.ticket_id])))
