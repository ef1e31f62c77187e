"""Staffing pages (issue 16): the header's presence switch (desk staff), the team lead's
staffing page (routing switch, who is on what with his load) and the staffing forecast."""

from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from servicedesk import roles
from servicedesk.errors import DomainError
from servicedesk.web import desk_staff_required, form_error_text, role_required, safe_next
from staffing import actions as staffing_actions
from staffing import board
from staffing.choices import Duty, PresenceStatus
from tickets.actions.routing import LOAD_STATES
from tickets.models import Ticket
from tickets.reports.staffing import staffing_forecast


class PresenceForm(forms.Form):
    status = forms.ChoiceField(choices=PresenceStatus.choices)


class RoutingForm(forms.Form):
    auto_assign = forms.BooleanField(
        label=gettext_lazy("Assign support cases automatically"), required=False
    )
    max_open_per_agent = forms.IntegerField(
        label=gettext_lazy("Max. open cases per agent"), min_value=1, max_value=100
    )


class ForecastForm(forms.Form):
    level = forms.IntegerField(
        label=gettext_lazy("Service level (%)"),
        min_value=50,
        max_value=99,
        initial=80,
        required=False,
    )


@require_POST
@desk_staff_required
def set_presence(request: HttpRequest) -> HttpResponse:
    form = PresenceForm(request.POST)
    if form.is_valid():
        staffing_actions.set_presence(request.user, form.cleaned_data["status"], now=timezone.now())
    else:
        messages.error(request, form_error_text(form))
    return redirect(safe_next(request, reverse("home")))


@require_GET
@desk_staff_required
def on_duty(request: HttpRequest) -> HttpResponse:
    """The header's "on duty now" (loaded by htmx)."""
    summary = board.on_duty_now(timezone.now())
    duties = [(Duty(duty).label, summary.get(duty, [])) for duty in Duty.values]
    return render(request, "staffing/partials/on_duty.html", {"duties": duties})


@require_http_methods(["GET", "POST"])
@role_required(roles.is_team_lead)
def staffing_page(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    desk = staffing_actions.routing_settings()
    if request.method == "POST":
        form = RoutingForm(request.POST)
        if form.is_valid():
            try:
                staffing_actions.update_routing_settings(
                    actor=request.user, now=now, **form.cleaned_data
                )
            except DomainError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Routing saved."))
                return redirect("tickets:staffing")
        else:
            messages.error(request, form_error_text(form))
    else:
        form = RoutingForm(
            initial={"auto_assign": desk.auto_assign, "max_open_per_agent": desk.max_open_per_agent}
        )
    rows = board.staff_board(now)
    loads = dict(
        Ticket.objects.filter(assignee__isnull=False, state__in=LOAD_STATES)
        .values_list("assignee_id")
        .annotate(count=Count("id"))
        .values_list("assignee_id", "count")
    )
    waiting = Ticket.objects.filter(state="support", assignee__isnull=True).count()
    people: list[dict[str, Any]] = [{"row": row, "load": loads.get(row.user.pk, 0)} for row in rows]
    return render(
        request,
        "staffing/staffing.html",
        {"form": form, "desk": desk, "people": people, "waiting": waiting},
    )


@require_GET
@role_required(roles.is_team_lead)
def forecast_page(request: HttpRequest) -> HttpResponse:
    form = ForecastForm(request.GET or None)
    level = 80
    if form.is_bound and form.is_valid() and form.cleaned_data.get("level"):
        level = form.cleaned_data["level"]
    result = staffing_forecast(timezone.now(), level=level / 100)
    return render(
        request,
        "staffing/forecast.html",
        {"form": form, "forecast": result, "level": level, "hours": range(24)},
    )
