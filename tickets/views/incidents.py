"""Incident pages (issue 14, §4): the list (open one by hand), one incident with its timeline
by platform, tonality over time, members with state and delivery, statements (write, approve
by a second person) and closing with a summary; the demo's replay of a burst.

Thin: every write is tickets.actions.incidents'; a refusal becomes a message with its status.
"""

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guidelines.choices import ReplyKind
from guidelines.models import ReplyTemplate
from monitoring.models import Mention
from servicedesk.errors import DomainError
from servicedesk.web import desk_staff_required
from tickets import access, charts
from tickets.actions import incidents as incident_actions
from tickets.choices import StatementKind, StatementStatus
from tickets.demo_burst import demo_burst_channel, replay_burst
from tickets.models import Incident, IncidentDelivery, IncidentMember
from tickets.reports import incidents as incident_reports

INCIDENT_LIST_SIZE = 100
BANNER_INCIDENTS_SHOWN = 3
DEFAULT_RESOLUTION_TEXT = "Hallo {name}, die Störung ist behoben. Danke für deine Geduld! {agent}"


def _minute_label(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _incident(request: HttpRequest, pk: int) -> Incident:
    return get_object_or_404(access.visible_incidents(request.user), pk=pk)


def _back(pk: int) -> HttpResponse:
    return redirect(reverse("tickets:incident_detail", args=[pk]))


@desk_staff_required
@require_GET
def incident_banner(request: HttpRequest) -> HttpResponse:
    """The banner of open incidents that every CM, agent and team lead page loads (htmx, on
    load and every 30 s): one query on the partial index of open incidents, outside the
    page's own query budget."""
    incidents = (
        access.visible_incidents(request.user)
        .open()
        .order_by("-opened_at", "-pk")
        .values("pk", "title", "opened_at")[:BANNER_INCIDENTS_SHOWN]
    )
    return render(request, "tickets/partials/incident_banner.html", {"incidents": incidents})


@desk_staff_required
@require_GET
def incident_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    rows = incident_reports.incidents_in_range(now - timedelta(days=365), now + timedelta(days=1))
    return render(
        request,
        "tickets/incident_list.html",
        {
            "rows": rows[:INCIDENT_LIST_SIZE],
            "may_manage": incident_actions.may_open_incidents(request.user),
            "demo_channel": demo_burst_channel(),
        },
    )


@desk_staff_required
@require_POST
def incident_open(request: HttpRequest) -> HttpResponse:
    """Open by hand: a title and, optionally, ticket numbers whose customer posts join."""
    numbers = [part for part in request.POST.get("tickets", "").replace(",", " ").split() if part]
    if not all(part.isdigit() for part in numbers):
        messages.error(request, _("Enter ticket numbers separated by commas."))
        return redirect("tickets:incident_list")
    mention_ids = list(
        Mention.objects.filter(
            ticket_id__in=[int(part) for part in numbers], is_own_account=False
        ).values_list("pk", flat=True)
    )
    try:
        incident = incident_actions.open_incident(
            actor=request.user, title=request.POST.get("title", ""), mention_ids=mention_ids
        )
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("tickets:incident_list")
    messages.success(request, _("Incident opened."))
    return _back(incident.pk)


def _members(incident: Incident) -> list[IncidentMember]:
    deliveries = IncidentDelivery.objects.select_related("reply", "statement")
    members = list(
        IncidentMember.objects.filter(incident=incident)
        .select_related("mention__channel", "mention__triage", "ticket")
        .order_by("mention__created_at", "pk")
    )
    by_mention: dict[int, list[IncidentDelivery]] = {}
    for delivery in deliveries.filter(statement__incident=incident).order_by("pk"):
        by_mention.setdefault(delivery.mention_id, []).append(delivery)
    for member in members:
        member.deliveries = by_mention.get(member.mention_id, [])  # type: ignore[attr-defined]
    return members


@desk_staff_required
@require_GET
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    volume = incident_reports.volume_by_platform(incident)
    tonality = incident_reports.tonality_over_time(incident)
    counts = incident_reports.delivery_counts(incident)
    statements = list(incident.statements.select_related("author", "approved_by"))
    for statement in statements:
        statement.counts = counts.get(statement.pk, {"queued": 0, "sent": 0, "failed": 0})  # type: ignore[attr-defined]
    members = _members(incident)
    tickets = list({member.ticket_id: member.ticket for member in members}.values())
    staying = incident_actions.own_open_questions(tickets, incident) if not incident.is_open else {}
    holding_template = (
        ReplyTemplate.objects.active().filter(kind=ReplyKind.HOLDING).order_by("pk").first()
    )
    return render(
        request,
        "tickets/incident_detail.html",
        {
            "incident": incident,
            "members": members,
            "statements": statements,
            "pending": [s for s in statements if s.status == StatementStatus.PENDING_APPROVAL],
            "volume_chart": charts.stacked_columns(
                volume.starts,
                [charts.Series(label, values) for label, values in volume.series.items()],
                title=_("Posts per %(minutes)s min by platform")
                % {"minutes": volume.bucket_minutes},
                label_of=_minute_label,
            ),
            "tonality_chart": charts.stacked_columns(
                tonality.starts,
                [charts.Series(label, values) for label, values in tonality.series.items()],
                title=_("Tonality per %(minutes)s min") % {"minutes": tonality.bucket_minutes},
                label_of=_minute_label,
            ),
            "staying_open": [
                (ticket, incident_actions.OPEN_QUESTION_LABELS[staying[ticket.pk]])
                for ticket in tickets
                if ticket.pk in staying
            ],
            "may_manage": incident_actions.may_open_incidents(request.user),
            "statement_kinds": StatementKind.choices,
            "holding_text": holding_template.text if holding_template else "",
            "resolution_text": DEFAULT_RESOLUTION_TEXT,
        },
    )


def _perform(request: HttpRequest, pk: int, perform: Any, success: str) -> HttpResponse:
    try:
        perform()
    except DomainError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)
    return _back(pk)


@desk_staff_required
@require_POST
def incident_statement(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    return _perform(
        request,
        pk,
        lambda: incident_actions.write_statement(
            incident,
            actor=request.user,
            kind=request.POST.get("kind", ""),
            text=request.POST.get("text", ""),
        ),
        _("Statement written; a colleague approves it."),
    )


@desk_staff_required
@require_POST
def incident_statement_approve(request: HttpRequest, pk: int, statement_id: int) -> HttpResponse:
    incident = _incident(request, pk)
    statement = get_object_or_404(incident.statements.all(), pk=statement_id)
    return _perform(
        request,
        pk,
        lambda: incident_actions.approve_statement(statement, actor=request.user),
        _("Statement approved."),
    )


def _member_mention(request: HttpRequest) -> Mention | None:
    """The mention a member form names: a mention id, or a ticket number (its first customer
    post)."""
    value = request.POST.get("mention", "").strip().lstrip("#")
    if not value.isdigit():
        return None
    visible = access.visible_mentions(request.user).filter(is_own_account=False)
    if request.POST.get("by") == "ticket":
        return visible.filter(ticket_id=int(value)).order_by("created_at", "pk").first()
    return visible.filter(pk=int(value)).first()


def _edit_member(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    incident = _incident(request, pk)
    mention = _member_mention(request)
    if mention is None:
        messages.error(request, _("No such post."))
        return _back(pk)
    return _perform(request, pk, lambda: action(incident, mention, actor=request.user), done)


@desk_staff_required
@require_POST
def incident_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_member(request, pk, incident_actions.add_incident_member, _("Member added."))


@desk_staff_required
@require_POST
def incident_member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_member(request, pk, incident_actions.remove_incident_member, _("Member removed."))


@desk_staff_required
@require_POST
def incident_close(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    return _perform(
        request,
        pk,
        lambda: incident_actions.close_incident(
            incident, actor=request.user, summary=request.POST.get("summary", "")
        ),
        _("Incident closed."),
    )


@desk_staff_required
@require_POST
def incident_replay_demo(request: HttpRequest) -> HttpResponse:
    """The demo's button (CMs, team leads): replay a burst into the demo channel now."""
    if not incident_actions.may_open_incidents(request.user):
        messages.error(request, _("Only CMs and team leads manage incidents."))
        return redirect("tickets:incident_list")
    channel = demo_burst_channel()
    if channel is None:
        messages.error(request, _("There is no demo channel."))
        return redirect("tickets:incident_list")
    posted = replay_burst(channel, now=timezone.now())
    messages.success(
        request,
        _("%(count)s posts of a burst replayed into %(channel)s; the detector runs on them.")
        % {"count": posted, "channel": channel.name},
    )
    return redirect("tickets:incident_list")
