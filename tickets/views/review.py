"""The four-eyes review queue: public replies waiting for a second person, most urgent SLA
first; approve, or reject with a comment. Also the author's hand-posting and failed
deliveries, which need a person."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from servicedesk.errors import DomainError, InvalidArgument
from servicedesk.web import desk_staff_required, form_error_text, safe_next
from tickets import access, actions
from tickets.choices import ReplyStatus
from tickets.forms import ReviewForm
from tickets.models import Reply
from tickets.reply_context import guideline_findings

REVIEW_PAGE_SIZE = 20
ATTENTION_LIMIT = 20  # hand-posting and failed replies shown above the queue


def visible_replies(user: object) -> QuerySet[Reply]:
    return access.visible_replies(user).select_related(
        "ticket__channel", "ticket__customer", "in_reply_to_mention", "author", "reviewer"
    )


def review_queryset(user: object) -> QuerySet[Reply]:
    return (
        visible_replies(user)
        .pending_review()
        .order_by(F("ticket__sla_due_at").asc(nulls_last=True), "submitted_at", "id")
    )


@desk_staff_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(review_queryset(request.user), REVIEW_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    approved_mine = visible_replies(request.user).filter(
        status=ReplyStatus.APPROVED, author=request.user
    )[:ATTENTION_LIMIT]
    to_post_by_hand = [reply for reply in approved_mine if actions.is_posted_by_hand(reply)]
    failed = visible_replies(request.user).filter(status=ReplyStatus.FAILED)[:ATTENTION_LIMIT]
    retrying = (
        visible_replies(request.user)
        .filter(status=ReplyStatus.APPROVED, next_attempt_at__isnull=False)
        .exclude(last_error="")
        .order_by("next_attempt_at")[:ATTENTION_LIMIT]
    )
    return render(
        request,
        "tickets/review_queue.html",
        {
            "page": page,
            "replies": list(page.object_list),
            "to_post_by_hand": to_post_by_hand,
            "failed": list(failed),
            "retrying": list(retrying),
            "review_url": reverse("tickets:review_queue"),
        },
    )


@desk_staff_required
@require_GET
def findings(request: HttpRequest, pk: int) -> HttpResponse:
    """The guideline warnings of one pending reply (htmx, loaded per card)."""
    reply = get_object_or_404(visible_replies(request.user), pk=pk)
    return render(
        request,
        "tickets/partials/findings.html",
        {
            "findings": guideline_findings(
                reply.ticket,
                reply.text,
                visibility=reply.visibility,
                mention=reply.in_reply_to_mention,
                template=reply.template,
                actor=reply.author,
            ),
            "quiet_when_empty": False,
        },
    )


def _review(request: HttpRequest, pk: int, *, approve: bool) -> HttpResponse:
    reply = get_object_or_404(visible_replies(request.user), pk=pk)
    form = ReviewForm(request.POST)
    default = reverse("tickets:review_queue")
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        if approve:
            actions.approve_reply(
                reply, actor=request.user, override_reason=form.cleaned_data["override_reason"]
            )
        else:
            actions.reject_reply(reply, actor=request.user, comment=form.cleaned_data["comment"])
    except DomainError as error:
        messages.error(request, str(error))
        if request.POST.get("next"):
            return redirect(safe_next(request, default))
        return render(
            request,
            "tickets/review_queue.html",
            {
                "page": None,
                "replies": [reply] if reply.status == ReplyStatus.PENDING_REVIEW else [],
                "to_post_by_hand": [],
                "failed": [],
                "review_url": default,
            },
            status=error.status,
        )
    if approve:
        messages.success(
            request, _("Reply on ticket #%(ticket)s approved.") % {"ticket": reply.ticket_id}
        )
    else:
        messages.success(
            request,
            _("Reply on ticket #%(ticket)s sent back to its author.") % {"ticket": reply.ticket_id},
        )
    return redirect(safe_next(request, default))


@desk_staff_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _review(request, pk, approve=True)


@desk_staff_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _review(request, pk, approve=False)
