"""What the information centre offers while a mention is answered (read-only): the published
articles and the answers of resolved tickets most similar to the mention, by full-text
ranking, each with its score and the words it matched.

Articles are found by knowledge.search with the mention's words ORed (German and English
stems, trigram neighbours, compound parts) and the best-matching paragraph of each is the
passage a click quotes. Of several language versions of one article only the best is shown.
Past answers are sent replies of kind `answer` on resolved tickets, matched on the
German || English vector that the reply search index holds (tickets 0003) with the same
stems, one per ticket, sharing at least two stems with the mention; of many matching
answers the newest ANSWER_CANDIDATES are ranked (ranking reads every ranked text).
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import CharField, Value
from django.db.models.expressions import RawSQL

from knowledge import search
from knowledge.models import Article
from tickets.choices import ReplyKind, TicketState
from tickets.models import Reply, Ticket

SUGGESTED_ARTICLES = 3
SUGGESTED_ANSWERS = 3
CANDIDATES_PER_SUGGESTION = 4  # rows ranked per suggestion shown (language versions, tickets)
RELATIVE_MIN_SCORE = 0.1  # of the best article's score: weaker ones are noise, not offered
ANSWER_CANDIDATES = 500  # newest matching answers ranked: ranking reads each one's text
ANSWER_MIN_MATCHED = 2  # stems a past answer shares with the mention: one word is no likeness
ANSWER_SNIPPET_LENGTH = 280  # characters of a past answer shown on the page

# The reply search index's expression (tickets/migrations/0003_reply_note_search_index.py).
REPLY_DOCUMENT_SQL = (
    "(to_tsvector('german'::regconfig, COALESCE(tickets_reply.text, ''))"
    " || to_tsvector('english'::regconfig, COALESCE(tickets_reply.text, '')))"
)


@dataclass
class ArticleSuggestion:
    article: Article
    score: float
    matched_terms: list[str]
    passage: str


@dataclass
class AnswerSuggestion:
    reply: Reply
    score: float
    matched_terms: list[str]


@dataclass
class Suggestions:
    mention_id: int | None
    articles: list[ArticleSuggestion] = field(default_factory=list)
    answers: list[AnswerSuggestion] = field(default_factory=list)
    query: search.ArticleQuery | None = None


def suggested_articles(
    query: search.ArticleQuery, *, language: str = "", limit: int = SUGGESTED_ARTICLES
) -> list[ArticleSuggestion]:
    """The published articles most similar to `query` (one per article: the version in
    `language` if it ranks within the candidates, else the best)."""
    if query.is_empty:
        return []
    candidates = list(
        search.matching(Article.objects.published(), query, match_all=False)[
            : limit * CANDIDATES_PER_SUGGESTION
        ]
    )
    best: dict[int, Article] = {}
    for article in candidates:
        chosen = best.get(article.root_id)
        if chosen is None or (article.language == language and chosen.language != language):
            best[article.root_id] = article
    articles = sorted(best.values(), key=lambda article: (-article.score, -article.pk))[:limit]
    if articles:
        floor = articles[0].score * RELATIVE_MIN_SCORE
        articles = [article for article in articles if article.score >= floor]
    search.annotate_page(articles, query)
    passages = search.best_passages([article.pk for article in articles], query)
    return [
        ArticleSuggestion(
            article=article,
            score=float(article.score),
            matched_terms=getattr(article, "matched_terms", []),
            passage=passages.get(article.pk, ""),
        )
        for article in articles
    ]


def suggested_answers(
    query: search.ArticleQuery, *, exclude_ticket: Ticket | None, limit: int = SUGGESTED_ANSWERS
) -> list[AnswerSuggestion]:
    """Sent answers of resolved tickets most similar to `query`, the best one per ticket."""
    lexemes = query.all_lexemes()
    if not lexemes:
        return []
    tsquery = " | ".join(search.quoted(lexeme) for lexeme in lexemes)
    document = SearchVector("text", config="german") + SearchVector("text", config="english")
    raw = SearchQuery(tsquery, search_type="raw", config="simple")
    matches = (
        Reply.objects.sent()
        .filter(kind=ReplyKind.ANSWER, ticket__state=TicketState.RESOLVED)
        .annotate(document=document)
        .filter(document=raw)
    )
    if exclude_ticket is not None:
        matches = matches.exclude(ticket=exclude_ticket)
    newest = matches.order_by("-id").values("pk")[:ANSWER_CANDIDATES]
    replies = (
        Reply.objects.filter(pk__in=newest)
        .annotate(document=document)
        .annotate(
            score=SearchRank(document, raw, normalization=Value(search.RANK_NORMALISATION)),
            matched=RawSQL(
                f"ARRAY(SELECT unnest(tsvector_to_array({REPLY_DOCUMENT_SQL}))"
                " INTERSECT SELECT unnest(%s::text[]))",
                (lexemes,),
                output_field=ArrayField(CharField()),
            ),
        )
        .select_related("ticket", "ticket__channel", "author")
        .order_by("-score", "-sent_at", "-id")
    )
    found: dict[int, AnswerSuggestion] = {}
    for reply in replies[: limit * CANDIDATES_PER_SUGGESTION]:
        if reply.ticket_id in found:
            continue
        matched = set(reply.matched or [])
        if len(matched) < ANSWER_MIN_MATCHED:
            continue
        words = query.words_for("de", matched) or query.words_for("en", matched)
        found[reply.ticket_id] = AnswerSuggestion(reply, float(reply.score), words)
        if len(found) == limit:
            break
    return list(found.values())


def suggestions_for(ticket: Ticket, mention: Any) -> Suggestions:
    """Articles and past answers for answering `mention` of `ticket` (none without one)."""
    if mention is None:
        return Suggestions(mention_id=None)
    query = search.build_query(mention.text, typos=False)
    return Suggestions(
        mention_id=mention.pk,
        articles=suggested_articles(query, language=(mention.language or "")[:2]),
        answers=suggested_answers(query, exclude_ticket=ticket),
        query=query,
    )
