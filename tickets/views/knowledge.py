"""The information centre's pages: search and browse articles, read one (with its language
versions, usage and topics), write and edit (team leads; experts for their departments),
publish and archive, the version history, proposals and their review (four eyes), an
article from an answer that worked, and the guidelines page (the guideline articles).

Views are thin: forms check shapes, knowledge.actions and tickets.actions.knowledge decide
and refuse (a `DomainError` becomes a message with its status). Who may see what is
knowledge.access's, with the person's departments from tickets.access.
"""

import difflib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from knowledge import access as knowledge_access
from knowledge import actions as knowledge_actions
from knowledge import search
from knowledge.access import Departments
from knowledge.choices import ARTICLE_LANGUAGES, DESK_WIDE, GUIDELINES_TAG, ArticleStatus
from knowledge.filters import ArticleFilter
from knowledge.markdown import render_markdown
from knowledge.models import Article, ArticleProposal, ArticleVersion
from servicedesk import roles
from servicedesk.errors import DomainError, InvalidArgument
from servicedesk.web import desk_staff_required, form_error_text
from tickets import access, actions
from tickets.actions.knowledge import department_choices, sent_answers_of_resolved_tickets
from tickets.forms_knowledge import (
    ArticleForm,
    ArticleSearchForm,
    NewArticleProposalForm,
    ProposalForm,
    ReviewForm,
    StatusForm,
    TopicArticlesForm,
    tags_text,
)
from tickets.models import Topic

ARTICLES_PAGE_SIZE = 20


def knowledge_reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in desk staff, department experts and superusers; everyone else gets a 404."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_superuser or roles.is_desk_staff(user) or roles.is_department_expert(user)):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _departments(request: HttpRequest) -> Departments:
    cached = getattr(request, "_knowledge_departments", None)
    if cached is None:
        cached = access.knowledge_departments(request.user)
        request._knowledge_departments = cached
    return cached


def visible_articles(request: HttpRequest) -> Any:
    return Article.objects.visible_to(request.user, departments=_departments(request).own)


def get_article_for_user(request: HttpRequest, pk: int) -> Article:
    """The article if the user may see it (drafts: its writers); otherwise Http404."""
    return get_object_or_404(visible_articles(request).select_related("updated_by"), pk=pk)


def _user_language() -> str:
    language = (translation.get_language() or "de")[:2]
    return language if language in dict(ARTICLE_LANGUAGES) else "de"


def _refused(request: HttpRequest, error: DomainError, target: str) -> HttpResponse:
    messages.error(request, str(error))
    return redirect(target)


# --------------------------------------------------------------------------- list and search


@knowledge_reader_required
@require_GET
def knowledge_list(request: HttpRequest) -> HttpResponse:
    """Search (ranked, highlighted) or browse the articles, with filters; a search that found
    nothing is logged as a gap in the knowledge."""
    departments = _departments(request)
    form = ArticleSearchForm(request.GET or None, departments=department_choices())
    data = form.cleaned_data if form.is_valid() else {}
    articles = ArticleFilter(request.GET, queryset=visible_articles(request)).qs.select_related(
        "updated_by"
    )
    text = (data.get("q") or "").strip()
    result = None
    if text:
        result = search.search(articles, text)
        articles = result.articles
    else:
        articles = articles.order_by("title", "id")
    page = Paginator(articles, ARTICLES_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    if result is not None:
        search.annotate_page(rows, result.query)
        if page.number == 1:
            knowledge_actions.record_search(
                actor=request.user,
                query=text,
                result_count=result.total,
                language=data.get("language", ""),
                filters={key: data.get(key) for key in ("tag", "product", "department", "status")},
            )
    query_string = request.GET.copy()
    query_string.pop("page", None)
    today = knowledge_actions.desk_today(timezone.now())
    return render(
        request,
        "tickets/knowledge/list.html",
        {
            "form": form,
            "text": text,
            "result": result,
            "page": page,
            "articles": rows,
            "query_string": query_string.urlencode(),
            "today": today,
            "departments": departments,
            "is_writer": knowledge_access.is_writer(request.user, departments=departments.own),
            "expired_mine": _expired_for_owner(request, today),
            "proposals_to_review": _reviewable_proposals(request).count(),
        },
    )


def _owned_departments(request: HttpRequest) -> list[str] | None:
    """The departments whose articles the user owns (None: all, for team leads)."""
    if knowledge_access.writes_every_article(request.user):
        return None
    return sorted(_departments(request).own)


def _expired_for_owner(request: HttpRequest, today: Any) -> list[Article]:
    owned = _owned_departments(request)
    expired = Article.objects.expired(today).order_by("valid_until")
    if owned is not None:
        if not owned:
            return []
        expired = expired.filter(department__in=owned)
    return list(expired[:10])


def _reviewable_proposals(request: HttpRequest) -> Any:
    owned = _owned_departments(request)
    proposals = ArticleProposal.objects.pending().exclude(proposed_by=request.user)
    if owned is None:
        return proposals
    return proposals.filter(department__in=owned)


# --------------------------------------------------------------------------- one article


@knowledge_reader_required
@require_GET
def knowledge_article(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_article_for_user(request, pk)
    departments = _departments(request)
    user = request.user
    family = list(
        visible_articles(request).of_family(article).exclude(pk=article.pk).order_by("language")
    )
    usage = (
        Article.objects.filter(pk=article.pk)
        .with_usage()
        .values("sent_replies", "resolved_cases")[0]
    )
    may_write = knowledge_access.may_write(user, article.department, departments=departments.own)
    missing_languages = [
        (code, name)
        for code, name in ARTICLE_LANGUAGES
        if code != article.language and code not in {other.language for other in family}
    ]
    is_lead = roles.is_team_lead(user) or user.is_superuser
    return render(
        request,
        "tickets/knowledge/article.html",
        {
            "article": article,
            "body_html": render_markdown(article.body),
            "family": family,
            "usage": usage,
            "department_name": departments.name_of(article.department)
            if article.department
            else _("Whole desk (team leads)"),
            "may_write": may_write,
            "may_propose": knowledge_access.may_propose(user) and not may_write,
            "missing_languages": missing_languages if may_write else [],
            "is_expired": article.is_expired(knowledge_actions.desk_today(timezone.now())),
            "statuses": [
                (value, label) for value, label in ArticleStatus.choices if value != article.status
            ],
            "topics": article.topics.order_by("name"),
            "topic_form": TopicArticlesForm(
                topics=Topic.objects.order_by("name"),
                initial={"topics": list(article.topics.values_list("pk", flat=True))},
            )
            if is_lead
            else None,
            "pending_proposals": article.proposals.pending().select_related("proposed_by"),
            "shows_tickets": roles.sees_all_tickets(user),
        },
    )


def _article_form(request: HttpRequest, data: Any = None, **kwargs: Any) -> ArticleForm:
    return ArticleForm(data, departments=department_choices(), **kwargs)


def _content_arguments(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": data["title"],
        "body": data["body"],
        "tags": data["tags"],
        "product": data["product"],
        "public_url": data["public_url"],
    }


@knowledge_reader_required
@require_http_methods(["GET", "POST"])
def knowledge_new(request: HttpRequest) -> HttpResponse:
    """A new article, a further language version (`?translation_of=`), or an article from an
    answer that worked (`?from_answer=`: writers publish it, everyone else proposes it)."""
    departments = _departments(request)
    translation_of = None
    if request.GET.get("translation_of"):
        translation_of = get_article_for_user(request, _int(request.GET["translation_of"]))
    answer = None
    if request.GET.get("from_answer"):
        if not roles.sees_all_tickets(request.user):
            raise Http404
        answer = get_object_or_404(
            sent_answers_of_resolved_tickets().select_related("ticket"),
            pk=_int(request.GET["from_answer"]),
        )
    elif not knowledge_access.is_writer(request.user, departments=departments.own):
        return redirect("tickets:knowledge_propose_new")
    if request.method == "POST":
        form = _article_form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                created = _create(request, data, translation_of=translation_of, answer=answer)
            except DomainError as error:
                messages.error(request, str(error))
                return _form_page(request, form, translation_of, answer, status=error.status)
            if isinstance(created, ArticleProposal):
                messages.success(request, _("Proposed: the owner department reviews it."))
                return redirect("tickets:knowledge_proposal", pk=created.pk)
            messages.success(request, _("The article was saved."))
            return redirect("tickets:knowledge_article", pk=created.pk)
        messages.error(request, form_error_text(form))
        return _form_page(request, form, translation_of, answer, status=400)
    initial: dict[str, Any] = {"language": _user_language(), "status": ArticleStatus.PUBLISHED}
    if translation_of is not None:
        initial.update(
            language=next(
                code for code, _name in ARTICLE_LANGUAGES if code != translation_of.language
            ),
            tags=tags_text(translation_of.tags),
            product=translation_of.product,
            public_url=translation_of.public_url,
            department=translation_of.department,
            valid_until=translation_of.valid_until,
        )
    if answer is not None:
        initial.update(body=answer.text, title=answer.ticket.preview[:120])
    if len(departments.own) == 1 and translation_of is None:
        initial["department"] = next(iter(departments.own))
    return _form_page(request, _article_form(request, initial=initial), translation_of, answer)


def _create(
    request: HttpRequest, data: dict[str, Any], *, translation_of: Any, answer: Any
) -> Article | ArticleProposal:
    if answer is not None:
        return actions.article_from_answer(
            answer,
            actor=request.user,
            language=data["language"],
            department=data["department"],
            **_content_arguments(data),
        )
    return knowledge_actions.create_article(
        actor=request.user,
        departments=_departments(request),
        language=data["language"],
        department=data["department"],
        valid_until=data["valid_until"],
        status=data["status"] or ArticleStatus.DRAFT,
        translation_of=translation_of,
        note=data["note"],
        **_content_arguments(data),
    )


def _form_page(
    request: HttpRequest,
    form: Any,
    translation_of: Any = None,
    answer: Any = None,
    *,
    article: Any = None,
    status: int = 200,
) -> HttpResponse:
    departments = _departments(request)
    return render(
        request,
        "tickets/knowledge/form.html",
        {
            "form": form,
            "article": article,
            "translation_of": translation_of,
            "answer": answer,
            "is_writer": knowledge_access.is_writer(request.user, departments=departments.own),
        },
        status=status,
    )


@knowledge_reader_required
@require_http_methods(["GET", "POST"])
def knowledge_edit(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_article_for_user(request, pk)
    departments = _departments(request)
    if not knowledge_access.may_write(
        request.user, article.department, departments=departments.own
    ):
        return redirect("tickets:knowledge_propose", pk=article.pk)
    if request.method == "POST":
        form = _article_form(request, request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                knowledge_actions.edit_article(
                    article,
                    actor=request.user,
                    departments=departments,
                    department=data["department"],
                    valid_until=data["valid_until"],
                    expected_version=data["version"],
                    note=data["note"],
                    **_content_arguments(data),
                )
            except DomainError as error:
                messages.error(request, str(error))
                return _form_page(request, form, article=article, status=error.status)
            messages.success(request, _("The article was saved."))
            return redirect("tickets:knowledge_article", pk=article.pk)
        messages.error(request, form_error_text(form))
        return _form_page(request, form, article=article, status=400)
    form = _article_form(
        request,
        initial={
            "title": article.title,
            "body": article.body,
            "tags": tags_text(article.tags),
            "product": article.product,
            "public_url": article.public_url,
            "language": article.language,
            "department": article.department,
            "valid_until": article.valid_until,
            "version": article.version,
        },
    )
    return _form_page(request, form, article=article)


@knowledge_reader_required
@require_POST
def knowledge_status(request: HttpRequest, pk: int) -> HttpResponse:
    article = get_article_for_user(request, pk)
    target = reverse("tickets:knowledge_article", args=[article.pk])
    form = StatusForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        knowledge_actions.change_article_status(
            article,
            actor=request.user,
            departments=_departments(request),
            status=form.cleaned_data["status"],
            expected_version=form.cleaned_data["version"],
        )
    except DomainError as error:
        return _refused(request, error, target)
    messages.success(request, _("Status changed."))
    return redirect(target)


@knowledge_reader_required
@require_POST
def knowledge_topics(request: HttpRequest, pk: int) -> HttpResponse:
    """Team leads link the article to repeated-demand topics."""
    article = get_article_for_user(request, pk)
    target = reverse("tickets:knowledge_article", args=[article.pk])
    form = TopicArticlesForm(request.POST, topics=Topic.objects.all())
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        actions.set_article_topics(article, actor=request.user, topics=form.cleaned_data["topics"])
    except DomainError as error:
        return _refused(request, error, target)
    messages.success(request, _("Topics saved."))
    return redirect(target)


@knowledge_reader_required
@require_GET
def knowledge_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every version: who changed what and when, with the text's changes."""
    article = get_article_for_user(request, pk)
    versions = list(
        ArticleVersion.objects.filter(article=article)
        .select_related("changed_by", "proposal__proposed_by")
        .order_by("-number")
    )
    rows = []
    for index, version in enumerate(versions):
        previous = versions[index + 1] if index + 1 < len(versions) else None
        rows.append(
            {"version": version, "diff": _diff(previous.body, version.body) if previous else []}
        )
    return render(request, "tickets/knowledge/history.html", {"article": article, "rows": rows})


def _diff(before: str, after: str) -> list[dict[str, str]]:
    """Changed lines of a text, as (kind, line) for the page: "add", "remove"."""
    lines = []
    for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0):
        if line.startswith(("+++", "---", "@@")):
            continue
        lines.append({"kind": "add" if line.startswith("+") else "remove", "text": line[1:]})
    return lines


# --------------------------------------------------------------------------- proposals


@knowledge_reader_required
@require_http_methods(["GET", "POST"])
def knowledge_propose(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose a new text for an article; the owner department reviews it."""
    article = get_article_for_user(request, pk)
    form = ProposalForm(
        request.POST or None,
        initial={
            "title": article.title,
            "body": article.body,
            "tags": tags_text(article.tags),
            "product": article.product,
            "public_url": article.public_url,
        },
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                proposal = actions.propose_article_change(
                    article, actor=request.user, comment=data["comment"], **_content_arguments(data)
                )
            except DomainError as error:
                messages.error(request, str(error))
                status = error.status
            else:
                messages.success(request, _("Proposed: the owner department reviews it."))
                return redirect("tickets:knowledge_proposal", pk=proposal.pk)
        else:
            messages.error(request, form_error_text(form))
    return render(
        request, "tickets/knowledge/propose.html", {"form": form, "article": article}, status=status
    )


@knowledge_reader_required
@require_http_methods(["GET", "POST"])
def knowledge_propose_new(request: HttpRequest) -> HttpResponse:
    """Propose a new article to the department that should own it."""
    form = NewArticleProposalForm(
        request.POST or None,
        departments=department_choices(),
        initial={"language": _user_language()},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                proposal = actions.propose_new_article(
                    actor=request.user,
                    language=data["language"],
                    department=data["department"],
                    comment=data["comment"],
                    **_content_arguments(data),
                )
            except DomainError as error:
                messages.error(request, str(error))
                status = error.status
            else:
                messages.success(request, _("Proposed: the owner department reviews it."))
                return redirect("tickets:knowledge_proposal", pk=proposal.pk)
        else:
            messages.error(request, form_error_text(form))
    return render(
        request, "tickets/knowledge/propose.html", {"form": form, "article": None}, status=status
    )


def _visible_proposals(request: HttpRequest) -> Any:
    """Proposals the user wrote or may review."""
    owned = _owned_departments(request)
    mine = ArticleProposal.objects.filter(proposed_by=request.user)
    if owned is None:
        return ArticleProposal.objects.all()
    return mine | ArticleProposal.objects.filter(department__in=owned)


@knowledge_reader_required
@require_GET
def knowledge_proposals(request: HttpRequest) -> HttpResponse:
    proposals = (
        _visible_proposals(request)
        .select_related("article", "proposed_by", "reviewed_by")
        .order_by("-proposed_at", "-id")
    )
    page = Paginator(proposals, ARTICLES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "tickets/knowledge/proposals.html",
        {
            "page": page,
            "proposals": list(page.object_list),
            "to_review": list(_reviewable_proposals(request).select_related("proposed_by")[:50]),
        },
    )


@knowledge_reader_required
@require_http_methods(["GET", "POST"])
def knowledge_proposal(request: HttpRequest, pk: int) -> HttpResponse:
    """One proposal with its changes against the article; the owner department accepts or
    rejects it, its author may withdraw it."""
    proposal = get_object_or_404(
        _visible_proposals(request).select_related("article", "proposed_by", "reviewed_by"), pk=pk
    )
    target = reverse("tickets:knowledge_proposal", args=[proposal.pk])
    if request.method == "POST":
        return _review(request, proposal, target)
    departments = _departments(request)
    article = proposal.article
    return render(
        request,
        "tickets/knowledge/proposal.html",
        {
            "proposal": proposal,
            "article": article,
            "body_html": render_markdown(proposal.body),
            "diff": _diff(article.body, proposal.body)
            if article and not proposal.is_new_article
            else [],
            "title_changed": bool(article and article.title != proposal.title),
            "is_outdated": bool(
                article and not proposal.is_new_article and article.version != proposal.base_version
            ),
            "may_review": knowledge_access.may_review(
                request.user, proposal, departments=departments.own
            ),
            "department_name": departments.name_of(proposal.department)
            if proposal.department != DESK_WIDE
            else _("Whole desk (team leads)"),
        },
    )


def _review(request: HttpRequest, proposal: ArticleProposal, target: str) -> HttpResponse:
    if request.POST.get("withdraw"):
        try:
            actions_result = knowledge_actions.withdraw_proposal(proposal, actor=request.user)
        except DomainError as error:
            return _refused(request, error, target)
        messages.success(
            request, _("Proposal #%(number)s withdrawn.") % {"number": actions_result.pk}
        )
        return redirect(target)
    form = ReviewForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidArgument(form_error_text(form))
        data = form.cleaned_data
        if data["decision"] == "accept":
            article = actions.accept_article_proposal(
                proposal, actor=request.user, comment=data["comment"], publish=data["publish"]
            )
            messages.success(request, _("Accepted: the article is updated."))
            return redirect("tickets:knowledge_article", pk=article.pk)
        actions.reject_article_proposal(proposal, actor=request.user, comment=data["comment"])
    except DomainError as error:
        return _refused(request, error, target)
    messages.success(request, _("Rejected; the author is told why."))
    return redirect(target)


# --------------------------------------------------------------------------- guidelines


@desk_staff_required
@require_GET
def guidelines(request: HttpRequest) -> HttpResponse:
    """The staff's social media guidelines: the published guideline articles in the user's
    language (the other language's where one has no version in it)."""
    language = _user_language()
    articles = list(
        Article.objects.published()
        .filter(tags__contains=[GUIDELINES_TAG])
        .select_related("updated_by")
        .prefetch_related(Prefetch("translations", queryset=Article.objects.published()))
        .order_by("title")
    )
    chosen: dict[int, Article] = {}
    for article in articles:
        current = chosen.get(article.root_id)
        if current is None or (article.language == language and current.language != language):
            chosen[article.root_id] = article
    pages = [
        {"article": article, "body_html": render_markdown(article.body)}
        for article in sorted(chosen.values(), key=lambda item: item.translation_of_id or item.pk)
    ]
    return render(
        request,
        "tickets/knowledge/guidelines.html",
        {"pages": pages, "may_edit": knowledge_access.writes_every_article(request.user)},
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
