"""The department inbox: internal requests (Rückfragen) addressed to the expert's departments,
open ones first by deadline, answered ones below; the request page shows the question and
ONLY the mentions the agent chose to share, never the rest of the ticket."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from servicedesk import roles
from servicedesk.errors import DomainError
from tickets import actions
from tickets.choices import DepartmentRequestStatus
from tickets.models import DepartmentRequest, DepartmentRequestQuerySet, SlaClock

ANSWERED_PAGE_SIZE = 25
ANSWER_MAX_LENGTH = 20_000  # characters


class DepartmentAnswerForm(forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Your answer"),
        max_length=ANSWER_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


def inbox_requests(user: Any) -> DepartmentRequestQuerySet:
    """The requests the user's inbox lists: an expert's departments' (a desk member who is
    also an expert sees his departments' too); other staff see every request."""
    if not (roles.is_department_expert(user) or roles.is_desk_staff(user) or user.is_superuser):
        return DepartmentRequest.objects.none()
    requests = DepartmentRequest.objects.visible_to(user)
    if roles.is_department_expert(user):
        requests = requests.filter(department__experts=user)
    return requests.select_related("department", "requested_by").prefetch_related(
        Prefetch(
            "clocks",
            queryset=SlaClock.objects.order_by("-started_at"),
            to_attr="feedback_clocks",
        )
    )


def with_deadline_state(requests: list[DepartmentRequest], *, now: Any) -> list[Any]:
    """Mark each open request overdue (past due_at) or at risk (past its clock's warning)."""
    for request in requests:
        clock = request.feedback_clocks[0] if request.feedback_clocks else None
        request.warn_at = clock.warn_at if clock else None
        request.is_overdue = request.status == DepartmentRequestStatus.OPEN and now > request.due_at
        request.is_at_risk = (
            request.status == DepartmentRequestStatus.OPEN
            and not request.is_overdue
            and request.warn_at is not None
            and now >= request.warn_at
        )
    return requests


@login_required
@require_http_methods(["GET"])
def department_inbox(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    requests = inbox_requests(request.user)
    open_requests = with_deadline_state(list(requests.open().order_by("due_at", "pk")), now=now)
    page = Paginator(
        requests.exclude(status=DepartmentRequestStatus.OPEN).order_by("-closed_at", "-pk"),
        ANSWERED_PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/department_inbox.html",
        {
            "open_requests": open_requests,
            "page": page,
            "closed_requests": with_deadline_state(list(page.object_list), now=now),
            "now": now,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def department_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The question, the shared mentions and (for an expert of the department, while the
    request is open) the answer form; the answer goes through answer_department_request."""
    department_request = get_object_or_404(inbox_requests(request.user), pk=pk)
    may_answer = (
        department_request.status == DepartmentRequestStatus.OPEN
        and department_request.department.experts.filter(pk=request.user.pk).exists()
    )
    form = DepartmentAnswerForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.answer_department_request(
                    department_request, actor=request.user, answer=form.cleaned_data["answer"]
                )
            except DomainError as error:
                messages.error(request, str(error.detail))
                status = error.status
            else:
                messages.success(request, _("Thank you, your answer was sent to the agent."))
                return redirect("tickets:department_inbox")
        else:
            status = 400
    now = timezone.now()
    with_deadline_state([department_request], now=now)
    shared_mentions = department_request.shared_mentions.select_related("channel").order_by(
        "created_at", "pk"
    )
    return render(
        request,
        "tickets/department_request.html",
        {
            "department_request": department_request,
            "shared_mentions": list(shared_mentions),
            "form": form,
            "may_answer": may_answer,
            "now": now,
        },
        status=status,
    )
