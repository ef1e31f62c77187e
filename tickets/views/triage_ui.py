"""The triage suggestion in the CM inbox and on the ticket page (issue 13 §4): badges and
reasons on every row, filters and sorts by suggestion, and "Vorschlag korrigieren" — one
click per head, recorded as labels by triage.actions.record_labels."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Case, IntegerField, OuterRef, QuerySet, Subquery, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from monitoring.models import Mention
from servicedesk import roles
from servicedesk.web import form_error_text, safe_next
from tickets import access
from tickets.models import Department, Ticket
from triage import actions as triage_actions
from triage.choices import LabelSource, Route, Tonality
from triage.models import Suggestion

SORT_SUPPORT_FIRST = "support_first"
SORT_NEGATIVE_FIRST = "negative_first"
SORTS = (
    (SORT_SUPPORT_FIRST, _lazy("Support cases first")),
    (SORT_NEGATIVE_FIRST, _lazy("Negative first")),
)
YES_NO = (("yes", _lazy("yes")), ("no", _lazy("no")))


class InboxTriageFilterForm(forms.Form):
    """The inbox's GET parameters for the suggestion; every one optional, unknown values
    refused (400)."""

    route = forms.ChoiceField(choices=[("", "")] + list(Route.choices), required=False)
    tonality = forms.ChoiceField(choices=[("", "")] + list(Tonality.choices), required=False)
    abusive = forms.ChoiceField(choices=[("", ""), *YES_NO], required=False)
    sort = forms.ChoiceField(choices=[("", ""), *SORTS], required=False)

    def active(self) -> dict[str, str]:
        """The chosen parameters (for links that keep them)."""
        return {name: value for name, value in self.cleaned_data.items() if value}


def _first_suggestion(field: str) -> Subquery:
    """`field` of the suggestion for the ticket's first customer mention (the row's one)."""
    return Subquery(
        Suggestion.objects.filter(mention__ticket=OuterRef("pk"), mention__is_own_account=False)
        .order_by("mention__created_at", "mention_id")
        .values(field)[:1]
    )


def filter_by_suggestion(queryset: QuerySet[Ticket], chosen: dict[str, str]) -> QuerySet[Ticket]:
    if chosen.get("route"):
        queryset = queryset.annotate(suggested_route=_first_suggestion("route")).filter(
            suggested_route=chosen["route"]
        )
    if chosen.get("tonality"):
        queryset = queryset.annotate(suggested_tonality=_first_suggestion("tonality")).filter(
            suggested_tonality=chosen["tonality"]
        )
    if chosen.get("abusive"):
        queryset = queryset.annotate(suggested_abusive=_first_suggestion("abusive")).filter(
            suggested_abusive=chosen["abusive"] == "yes"
        )
    return queryset


def with_suggestion_rank(queryset: QuerySet[Ticket], sort: str) -> QuerySet[Ticket]:
    """`suggestion_rank`: 0 for the rows the sort puts first (support cases, negative
    tone), else 1; the caller orders by it, then by the SLA order."""
    field, value = (
        ("route", Route.SUPPORT) if sort == SORT_SUPPORT_FIRST else ("tonality", Tonality.NEGATIVE)
    )
    return queryset.annotate(sort_value=_first_suggestion(field)).annotate(
        suggestion_rank=Case(
            When(sort_value=value, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    )


def attach_suggestions(tickets: list[Ticket]) -> None:
    """Set `ticket.suggestion` (or None) for the rows' first customer mentions: one query."""
    mention_ids = [ticket.first_mention_id for ticket in tickets if ticket.first_mention_id]
    found = (
        {s.mention_id: s for s in Suggestion.objects.filter(mention_id__in=mention_ids)}
        if mention_ids
        else {}
    )
    for ticket in tickets:
        ticket.suggestion = found.get(ticket.first_mention_id)


def suggestion_of(mention: Mention | None) -> Suggestion | None:
    """The mention's suggestion when it was selected with it (`select_related("triage")`)."""
    if mention is None:
        return None
    try:
        return mention.triage
    except ObjectDoesNotExist:
        return None


def correction_choices(departments: QuerySet[Department] | None = None) -> dict[str, Any]:
    """What the correction forms offer (the departments: one query, when shown; a page that
    lists them already passes its queryset)."""
    return {
        "route_choices": Route.choices,
        "tonality_choices": Tonality.choices,
        "triage_departments": Department.objects.order_by("name")
        if departments is None
        else departments,
    }


def may_correct(user: Any) -> bool:
    """Who corrects suggestions: CMs, agents and team leads (as the API)."""
    return roles.is_desk_staff(user) and not roles.is_api_client(user)


class CorrectionForm(forms.Form):
    """One head (or more) of a correction; an empty field is not part of it."""

    route = forms.ChoiceField(choices=Route.choices, required=False)
    tonality = forms.ChoiceField(choices=Tonality.choices, required=False)
    relevant = forms.ChoiceField(choices=YES_NO, required=False)
    abusive = forms.ChoiceField(choices=YES_NO, required=False)
    department = forms.ModelChoiceField(
        queryset=Department.objects.all(), to_field_name="slug", required=False
    )

    def labels(self) -> dict[str, object]:
        data = self.cleaned_data
        labels: dict[str, object] = {}
        for head in ("route", "tonality"):
            if data.get(head):
                labels[head] = data[head]
        for head in ("relevant", "abusive"):
            if data.get(head):
                labels[head] = data[head] == "yes"
        if data.get("department"):
            labels["department"] = data["department"].slug
        return labels


@login_required
@require_POST
def correct_suggestion(request: HttpRequest, mention_id: int) -> HttpResponse:
    """POST of "Vorschlag korrigieren": the corrected heads become labels (source
    correction); 403 for other roles, 404 outside the caller's visibility, 400 for bad input
    (nothing recorded). The role is checked first (403 for any mention)."""
    if not may_correct(request.user):  # before the lookup: says nothing about which exist
        return render(
            request,
            "servicedesk/forbidden.html",
            {"detail": _("Only CMs, agents and team leads correct suggestions.")},
            status=403,
        )
    mention = get_object_or_404(access.visible_mentions(request.user), pk=mention_id)
    fallback = reverse("tickets:ticket_detail", args=[mention.ticket_id])
    form = CorrectionForm(request.POST)
    if not form.is_valid() or not form.labels():
        error = form_error_text(form) if form.errors else _("Choose what to correct.")
        return HttpResponse(error, status=400, content_type="text/plain; charset=utf-8")
    triage_actions.record_labels(
        mention,
        form.labels(),
        source=LabelSource.CORRECTION,
        actor=request.user,
        now=timezone.now(),
    )
    messages.success(
        request, _("Suggestion corrected (mention %(mention)s).") % {"mention": mention.pk}
    )
    return redirect(safe_next(request, fallback))
