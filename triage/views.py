"""`/triage/train/`: the team lead's "retrain now" form (POST only, CSRF) on the
Triage-Qualität page; redirects back with the outcome as a message."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from servicedesk import roles
from servicedesk.web import role_required, safe_next
from triage.actions import training
from triage.model_versions import run_summary


@require_POST
@role_required(roles.is_team_lead)
def train(request: HttpRequest) -> HttpResponse:
    summary = run_summary(training.retrain(now=timezone.now(), trigger="manual"))
    report = messages.success if summary["promoted"] else messages.warning
    report(request, summary["detail"])
    return redirect(safe_next(request, reverse("home")))
