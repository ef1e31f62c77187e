"""The information centre on the ticket page: the articles and past answers offered for the
mention being answered (an htmx fragment, loaded after the page and again when the composer
answers another mention), and the one-click insertion into the draft (recorded, so the
article's use is counted once the reply is sent)."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from knowledge.choices import InsertionMode
from knowledge.models import Article
from servicedesk.errors import DomainError, InvalidArgument
from servicedesk.web import desk_staff_required, form_error_text
from tickets import access, actions
from tickets.forms_knowledge import InsertForm
from tickets.models import Reply
from tickets.reply_context import default_answered_mention
from tickets.suggestions import ANSWER_SNIPPET_LENGTH, suggestions_for


def _mention(ticket: Any, mention_id: Any) -> Any:
    try:
        number = int(mention_id)
    except (TypeError, ValueError):
        return default_answered_mention(ticket)
    return ticket.mentions.filter(
        pk=number, is_own_account=False
    ).first() or default_answered_mention(ticket)


@desk_staff_required
@require_GET
def ticket_suggestions(request: HttpRequest, pk: int) -> HttpResponse:
    """Articles and answers of resolved tickets most similar to the mention answered."""
    ticket = access.get_ticket_for_user(request.user, pk)
    mention = _mention(ticket, request.GET.get("in_reply_to_mention"))
    suggestions = suggestions_for(ticket, mention)
    return render(
        request,
        "tickets/partials/suggestions.html",
        {
            "ticket": ticket,
            "mention": mention,
            "suggestions": suggestions,
            "may_insert": access.may_draft_replies(request.user) and ticket.is_open,
            "answer_snippet_length": ANSWER_SNIPPET_LENGTH,
            "topic_articles": list(ticket.topic.articles.published()) if ticket.topic_id else [],
        },
    )


@desk_staff_required
@require_POST
def ticket_insert(request: HttpRequest, pk: int) -> JsonResponse:
    """Insert a link to an article, its best passage or a past answer into the draft:
    answers `{"use": id, "text": "…"}` (the composer keeps the id with the draft), or the
    error format of the API with its status."""
    ticket = access.get_ticket_for_user(request.user, pk)
    form = InsertForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        data = form.cleaned_data
        mode = data["mode"]
        article = answer = None
        if mode == InsertionMode.ANSWER:
            answer = Reply.objects.filter(pk=data["answer"] or 0).first()
            if answer is None:
                raise InvalidArgument(_unknown(), field="answer")
        else:
            article = Article.objects.filter(pk=data["article"] or 0).first()
            if article is None:
                raise InvalidArgument(_unknown(), field="article")
        use, text = actions.insert_into_draft(
            ticket,
            actor=request.user,
            mode=mode,
            article=article,
            answer=answer,
            mention=_mention(ticket, data.get("mention")),
        )
    except DomainError as error:
        return JsonResponse(
            {"code": error.code, "detail": str(error), "errors": error.data_errors()},
            status=error.status,
        )
    return JsonResponse({"use": use.pk, "text": text})


def _unknown() -> str:
    return _("It is not offered any more; reload the page.")
