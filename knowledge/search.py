"""Search in the information centre: PostgreSQL full text with German (and English)
stemming, ranking, trigram tolerance for typos, parts of compound words, filters and
highlighted snippets (read-only; the one write, the word list, is knowledge.actions').

How a query becomes a tsquery, per article language (German articles are stemmed with the
`german` configuration, English ones with `english`):

1. The query's words (letters only; handles, links and numbers dropped) are stemmed with the
   language's configuration; stop words drop out.
2. A word that no article contains is looked up in the word list (`SearchWord`, every word
   of every article with its stem) by trigram distance: "Erstatung" finds "erstattung".
3. A long word that no article has is split where the word list knows a part:
   "Rückerstattung" contains "erstattung", "Paketverlust" contains "paket" and "verlust" (a
   linking "s" is dropped: "Sendungsnummer" → "sendung").
4. Each word stands for its own stems OR its neighbours and parts; the words are ANDed
   (`match_all`); a query that finds nothing so is run again with the words ORed.

The score is ts_rank over the article's weighted vector (title A, tags and product B, text D)
for all the stems, plus ts_rank for the query's own stems only, so an exact word outranks a
neighbour. Snippets are ts_headline on the article's plain text, for the shown page only.

A search is five statements, whatever its words: the terms of all languages (the word
list's trigram GiST index), the count and the candidates together (`candidates`: the
per-language GIN indexes' bitmaps, each part stopping at its LIMIT), the page's count and
its ranked rows (ts_rank over at most 2 × RANK_CANDIDATES candidates) and the page's
snippets. See bench/knowledge.py for the figures at 100,000 articles.
"""

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    F,
    FloatField,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from knowledge.choices import SEARCH_CONFIGS
from knowledge.models import Article

QUERY_MAX_LENGTH = 200  # characters of a search a person types
TEXT_MAX_WORDS = 40  # words of a mention used to find suggestions
TYPO_MIN_LENGTH = 4  # shorter words are not corrected
TYPO_MIN_SIMILARITY = 0.4  # pg_trgm similarity of a neighbour ("packet" ~ "paket": 0.44)
TYPO_NEIGHBOURS = 4  # nearest words looked at per unknown word
TYPO_MAX_LENGTH_DIFFERENCE = 2  # letters: a typo, not another word ("paket" ≠ "paketblitz")
COMPOUND_MIN_LENGTH = 8  # words this long are looked at for known parts
PART_MIN_LENGTH = 5  # a part of a compound has at least this many letters
RANK_CANDIDATES = 200  # articles ranked per search by title and as many by text (see matching)
MATCH_COUNT_LIMIT = RANK_CANDIDATES  # matches counted exactly; beyond: "more than 200"
FOCUS_TERMS = 3  # rarest words that pick the text candidates of a broad search
FREQUENCIES_TTL_SECONDS = 300  # how long the stems' frequencies (pg_stats) are reused
COMPOUND_LANGUAGES = ("de",)  # English writes its compounds apart: nothing to split
LINKING_ELEMENTS = ("s", "es", "n", "en")  # "Sendungs|nummer", "Kunden|konto"
RANK_WEIGHTS = [0.1, 0.2, 0.4, 1.0]  # D (text), C, B (tags, product), A (title)
RANK_NORMALISATION = 1  # divide by 1 + log(document length)
# Private-use characters mark the highlighted words in ts_headline's output; the text is
# escaped first and only then are they turned into <mark>, so article text cannot inject HTML.
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_STOP = "\ue001"

NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]?[\w.-]*@[\w.-]+|@\w+", re.UNICODE)
WORD = re.compile(r"(?<!\w)[^\W\d_]{2,}(?!\w)", re.UNICODE)
INDEX_WORD_MIN_LENGTH = 3
INDEX_WORD_MAX_LENGTH = 64


def words_of(text: str, *, limit: int = TEXT_MAX_WORDS) -> list[str]:
    """The distinct words of `text` in order, lower case, letters only (no handles, links,
    numbers); "#paketblitz" counts as the word "paketblitz"."""
    seen: dict[str, None] = {}
    for match in WORD.finditer(NOISE.sub(" ", text or "")):
        word = match.group(0).lower()
        if len(word) <= INDEX_WORD_MAX_LENGTH:
            seen.setdefault(word, None)
        if len(seen) >= limit:
            break
    return list(seen)


def index_words(*texts: str) -> list[str]:
    """The words of an article that go into the word list."""
    words: dict[str, None] = {}
    for text in texts:
        for word in words_of(text, limit=100_000):
            if len(word) >= INDEX_WORD_MIN_LENGTH:
                words.setdefault(word, None)
    return list(words)


def compound_candidates(word: str) -> list[str]:
    """The heads and modifiers a long word may be made of (each at least PART_MIN_LENGTH
    letters, leaving at least three letters of the rest), with linking elements dropped."""
    if len(word) < COMPOUND_MIN_LENGTH:
        return []
    candidates: dict[str, None] = {}
    for cut in range(3, len(word) - 2):
        head, modifier = word[cut:], word[:cut]
        if len(head) >= PART_MIN_LENGTH:
            candidates.setdefault(head, None)
        if len(modifier) >= PART_MIN_LENGTH:
            candidates.setdefault(modifier, None)
            for element in LINKING_ELEMENTS:
                stem = modifier[: -len(element)]
                if modifier.endswith(element) and len(stem) >= PART_MIN_LENGTH:
                    candidates.setdefault(stem, None)
    return list(candidates)


@dataclass(frozen=True)
class Term:
    """One word of a query, in one language: its own stems and the (word, stem) pairs it
    also stands for (trigram neighbours, parts of a compound)."""

    word: str
    lexemes: tuple[str, ...]
    variants: tuple[tuple[str, str], ...] = ()
    # Some article has the word (or a neighbour or part of it): a word no article has can
    # only make a search find nothing, so it is left out of the tsquery.
    is_known: bool = True

    @property
    def all_lexemes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.lexemes, *(lexeme for _w, lexeme in self.variants)]))


def quoted(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


@dataclass(frozen=True)
class ArticleQuery:
    """A search's words turned into stems, per article language (see the module doc)."""

    text: str
    terms: dict[str, tuple[Term, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not any(self.terms.values())

    @property
    def word_count(self) -> int:
        return max((len(terms) for terms in self.terms.values()), default=0)

    def known_terms(self, language: str) -> tuple[Term, ...]:
        return tuple(term for term in self.terms.get(language, ()) if term.is_known)

    @property
    def has_unknown_words(self) -> bool:
        """Is some word of the search in no article (in no language)?"""
        known = {term.word for terms in self.terms.values() for term in terms if term.is_known}
        return any(term.word not in known for terms in self.terms.values() for term in terms)

    def tsquery(
        self, language: str, *, match_all: bool, terms: tuple[Term, ...] | None = None
    ) -> str:
        """Raw tsquery text of the stems of the known words (empty if there are none)."""
        groups = [
            "(" + " | ".join(quoted(lexeme) for lexeme in term.all_lexemes) + ")"
            for term in (self.known_terms(language) if terms is None else terms)
        ]
        return (" & " if match_all else " | ").join(groups)

    def exact_tsquery(self, language: str) -> str:
        lexemes = {lexeme for term in self.terms.get(language, ()) for lexeme in term.lexemes}
        return " | ".join(quoted(lexeme) for lexeme in sorted(lexemes))

    def lexemes(self, language: str) -> list[str]:
        return sorted(
            {lexeme for term in self.terms.get(language, ()) for lexeme in term.all_lexemes}
        )

    def all_lexemes(self) -> list[str]:
        """Every stem of every language (to match texts indexed in German and English)."""
        return sorted({lexeme for language in self.terms for lexeme in self.lexemes(language)})

    def words_for(self, language: str, lexemes: Iterable[str]) -> list[str]:
        """The words a person recognises for matched stems: the query's own word, or the
        neighbour or part it stood for ("Rückerstattung → erstattung")."""
        wanted = set(lexemes)
        found: list[str] = []
        for term in self.terms.get(language, ()):
            if wanted.intersection(term.lexemes):
                found.append(term.word)
                continue
            for word, lexeme in term.variants:
                if lexeme in wanted:
                    found.append(f"{term.word} → {word}")
                    break
        return found


_TERMS_SQL = """
WITH words(word) AS (SELECT unnest(%(words)s::text[])),
     languages(language, config) AS (
         SELECT * FROM unnest(%(languages)s::text[], %(configs)s::regconfig[])),
     stems AS (SELECT languages.language, words.word, lexeme FROM languages, words,
                      unnest(tsvector_to_array(to_tsvector(languages.config, words.word)))
                      AS lexeme)
SELECT language, 'stem', word, word, lexeme FROM stems
UNION ALL
SELECT language, 'present', word, word, lexeme FROM stems
 WHERE EXISTS (SELECT 1 FROM knowledge_searchword known
                WHERE known.language = stems.language AND known.lexeme = stems.lexeme)
UNION ALL
SELECT language, 'known', word, word, lexeme FROM knowledge_searchword
 WHERE language = ANY(%(languages)s::text[])
   AND word = ANY(%(candidates)s::text[] || %(words)s::text[])
UNION ALL
SELECT languages.language, 'typo', words.word, neighbour.word, neighbour.lexeme
  FROM languages CROSS JOIN words CROSS JOIN LATERAL (
       SELECT word, lexeme FROM knowledge_searchword
        WHERE language = languages.language
        ORDER BY word <-> words.word LIMIT %(neighbours)s) neighbour
 WHERE %(typos)s AND length(words.word) >= %(typo_min_length)s
   AND similarity(neighbour.word, words.word) >= %(similarity)s
   AND abs(length(neighbour.word) - length(words.word)) <= %(length_difference)s
   AND NOT EXISTS (SELECT 1 FROM knowledge_searchword known
                    WHERE known.language = languages.language AND known.word = words.word)
"""


def _term_rows(
    words: list[str], languages: list[str], candidates: list[str], *, typos: bool
) -> dict[str, list[tuple[Any, ...]]]:
    """The stems, known words and typo neighbours of `words` in every language: one
    statement for all languages."""
    with connection.cursor() as cursor:
        cursor.execute(
            _TERMS_SQL,
            {
                "words": words,
                "languages": languages,
                "configs": [SEARCH_CONFIGS[language] for language in languages],
                "candidates": candidates,
                "neighbours": TYPO_NEIGHBOURS,
                "typo_min_length": TYPO_MIN_LENGTH,
                "similarity": TYPO_MIN_SIMILARITY,
                "length_difference": TYPO_MAX_LENGTH_DIFFERENCE,
                "typos": typos,
            },
        )
        rows: dict[str, list[tuple[Any, ...]]] = {language: [] for language in languages}
        for language, *row in cursor.fetchall():
            rows[language].append(tuple(row))
        return rows


def _stems(rows: list[tuple[Any, ...]]) -> dict[str, list[str]]:
    stems: dict[str, list[str]] = {}
    for kind, word, _variant, lexeme in rows:
        if kind == "stem":
            stems.setdefault(word, []).append(lexeme)
    return stems


def build_query(
    text: str, *, languages: Iterable[str] = tuple(SEARCH_CONFIGS), typos: bool = True
) -> ArticleQuery:
    """The stems of `text` per language, with compound parts and (unless `typos` is false,
    as for the long text of a mention) typo neighbours; one query for all languages."""
    words = words_of(text)
    terms: dict[str, tuple[Term, ...]] = {}
    if not words:
        return ArticleQuery(text=text, terms={})
    parts_of = {word: compound_candidates(word) for word in words}
    candidates = sorted({part for parts in parts_of.values() for part in parts})
    rows_of = _term_rows(words, list(languages), candidates, typos=typos)
    stems_of = {language: _stems(rows) for language, rows in rows_of.items()}
    # A stop word of any language is no search word in any ("es" is German, not English).
    stop_words = {word for word in words for stems in stems_of.values() if word not in stems}
    for language, rows in rows_of.items():
        stems = stems_of[language]
        known: dict[str, str] = {}
        present: set[str] = set()
        typos: dict[str, list[tuple[str, str]]] = {}
        for kind, word, variant, lexeme in rows:
            if kind == "known":
                known[word] = lexeme
            elif kind == "present":
                present.add(word)
            elif kind == "typo":
                typos.setdefault(word, []).append((variant, lexeme))
        language_terms = []
        for word in words:
            if word in stop_words:
                continue
            own = tuple(stems[word])
            variants = list(typos.get(word, ()))
            # A word some article has is precise; its parts only stand in for a word that
            # no article has ("Paketverlust" → "paket", "verlust").
            parts = (
                []
                if word in present or language not in COMPOUND_LANGUAGES
                else [part for part in parts_of[word] if part in known and part != word]
            )
            # Keep the longest parts: "erstattung" makes "stattung" redundant.
            for part in parts:
                if not any(part != other and part in other for other in parts):
                    variants.append((part, known[part]))
            unique: dict[str, str] = {}
            for variant_word, lexeme in variants:
                if lexeme not in own:
                    unique.setdefault(lexeme, variant_word)
            variants = [(variant_word, lexeme) for lexeme, variant_word in unique.items()]
            language_terms.append(
                Term(
                    word=word,
                    lexemes=own,
                    variants=tuple(variants),
                    is_known=word in present or bool(variants),
                )
            )
        terms[language] = tuple(language_terms)
    return ArticleQuery(text=text, terms=terms)


# --------------------------------------------------------------------------- ranking


def _raw(tsquery: str) -> SearchQuery:
    """A tsquery of stems as they are (the `simple` configuration only lower-cases)."""
    return SearchQuery(tsquery, search_type="raw", config="simple")


def _rank(query: ArticleQuery, language: str, *, match_all: bool) -> Any:
    expanded = SearchRank(
        F("search_vector"),
        _raw(query.tsquery(language, match_all=False)),
        weights=RANK_WEIGHTS,
        normalization=Value(RANK_NORMALISATION),
    )
    exact = query.exact_tsquery(language)
    if not exact:
        return expanded
    return expanded + SearchRank(
        F("search_vector"),
        _raw(exact),
        weights=RANK_WEIGHTS,
        normalization=Value(RANK_NORMALISATION),
    )


def _condition(
    query: ArticleQuery, *, match_all: bool, field: str, focus: bool = False
) -> Q | None:
    """Articles of each language whose `field` vector matches the query's known words (with
    `focus`, only its rarest words: see `focus_terms`)."""
    condition = None
    for language in query.terms:
        terms = focus_terms(query, language) if focus else query.known_terms(language)
        if not terms:
            continue
        tsquery = query.tsquery(language, match_all=match_all, terms=terms)
        clause = Q(language=language, **{field: _raw(tsquery)})
        condition = clause if condition is None else condition | clause
    return condition


_frequencies: tuple[float, dict[str, float]] | None = None


def lexeme_frequencies() -> dict[str, float]:
    """The share of articles holding each of the most common stems, from PostgreSQL's
    statistics of the search vectors (ANALYZE keeps them; a stem not listed is rarer than
    all listed ones). Read again after FREQUENCIES_TTL_SECONDS."""
    global _frequencies
    if _frequencies is not None and time.monotonic() - _frequencies[0] < FREQUENCIES_TTL_SECONDS:
        return _frequencies[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats"
            " WHERE tablename = 'knowledge_article' AND attname = 'search_vector'"
        )
        row = cursor.fetchone()
    frequencies = dict(zip(row[0], row[1], strict=False)) if row and row[0] else {}
    _frequencies = (time.monotonic(), frequencies)
    return frequencies


def focus_terms(query: ArticleQuery, language: str) -> tuple[Term, ...]:
    """The FOCUS_TERMS rarest known words of the query: what an article most similar to a
    long text (a mention) has in common with it, rather than its everyday words."""
    frequencies = lexeme_frequencies()
    terms = query.known_terms(language)

    def frequency(term: Term) -> float:
        return max((frequencies.get(lexeme, 0.0) for lexeme in term.all_lexemes), default=0.0)

    ranked = sorted(enumerate(terms), key=lambda item: (frequency(item[1]), item[0]))
    return tuple(term for _position, term in ranked[:FOCUS_TERMS])


def _ids(articles: QuerySet[Any], condition: Q, kind: str, limit: int) -> QuerySet[Any]:
    return (
        articles.filter(condition)
        .order_by()
        .annotate(kind=Value(kind, output_field=CharField()))
        .values_list("kind", "pk")[:limit]
    )


@dataclass(frozen=True)
class Candidates:
    """What one statement found for a search: how many articles match (counted up to
    MATCH_COUNT_LIMIT + 1) and the ids of the articles to rank (see `candidates`)."""

    matches: int
    ids: tuple[int, ...]


def candidates(articles: QuerySet[Any], query: ArticleQuery, *, match_all: bool) -> Candidates:
    """Count the matches and pick the articles to rank, in one statement on the indexes.

    Ranking reads every ranked article's vector, so a search ranks at most RANK_CANDIDATES
    articles with the words in their text and RANK_CANDIDATES more with them in their
    title, tags or product; when more match the text than that, those with the query's
    rarest words (`focus_terms`) are the text candidates. Below that size every match is
    ranked. The parts are read from the GIN indexes' bitmaps (`knowledge_on_indexes`), each
    stopping at its LIMIT, with no ORDER BY (which would read every match).
    """
    text = _condition(query, match_all=match_all, field="search_vector")
    if text is None:
        return Candidates(matches=0, ids=())
    # The rarest words stand apart from all only in a search of more than FOCUS_TERMS words
    # (a mention's text); their frequencies are read (and cached) for those only.
    focus = None
    if any(len(query.known_terms(language)) > FOCUS_TERMS for language in query.terms):
        focus = _condition(query, match_all=match_all, field="search_vector", focus=True)
        if focus == text:
            focus = None
    # The same words as the text's: a title condition whenever there is a text one.
    title = _condition(query, match_all=match_all, field="title_vector") or text
    with connection.cursor() as cursor:

        def literal(condition: Q, kind: str, limit: int) -> str:
            sql, params = _ids(articles, condition, kind, limit).query.sql_with_params()
            statement = cursor.mogrify(sql, params)
            return statement.decode() if isinstance(statement, bytes) else statement

        try:
            match = literal(text, "match", MATCH_COUNT_LIMIT + 1)
            if focus is None:
                titled = literal(title, "title", RANK_CANDIDATES)
                statement = f"({match}) UNION ALL ({titled})"
            elif match_all:
                focused = literal(focus, "focus", RANK_CANDIDATES)
                titled = literal(title, "title", RANK_CANDIDATES)
                statement = f"({match}) UNION ALL ({focused}) UNION ALL ({titled})"
            else:
                # Any word: the rarest words' matches and the title matches are among all
                # matches, so when more than RANK_CANDIDATES have either, all are more
                # than that too and are not read (the one-time filter skips that part: a
                # mention's everyday words match most articles, whose bitmap costs more
                # than the rest of the search).
                focused = literal(focus, "focus", RANK_CANDIDATES + 1)
                titled = literal(title, "title", RANK_CANDIDATES + 1)
                statement = (
                    f"WITH focus AS MATERIALIZED ({focused}),"
                    f" titles AS MATERIALIZED ({titled})"
                    " SELECT kind, pk FROM focus UNION ALL SELECT kind, pk FROM titles"
                    f" UNION ALL SELECT kind, pk FROM ({match}) AS every"
                    f" WHERE (SELECT count(*) FROM focus) <= {RANK_CANDIDATES:d}"
                    f" AND (SELECT count(*) FROM titles) <= {RANK_CANDIDATES:d}"
                )
        except EmptyResultSet:  # `articles` is none()
            return Candidates(matches=0, ids=())
        cursor.execute("SELECT kind, id FROM knowledge_on_indexes(%s)", [statement])
        rows = cursor.fetchall()
    found: dict[str, list[int]] = {"match": [], "focus": [], "title": []}
    for kind, pk in rows:
        found[kind].append(pk)
    matches = len(found["match"])
    if max(len(found["focus"]), len(found["title"])) > RANK_CANDIDATES:  # then all are more
        matches = MATCH_COUNT_LIMIT + 1
    text_ids = found["match"][:RANK_CANDIDATES]
    if matches > RANK_CANDIDATES and found["focus"]:
        text_ids = found["focus"][:RANK_CANDIDATES]
    title_ids = found["title"][:RANK_CANDIDATES]
    return Candidates(matches=matches, ids=tuple(sorted({*text_ids, *title_ids})))


def matching(
    articles: QuerySet[Any],
    query: ArticleQuery,
    *,
    match_all: bool,
    chosen: Candidates | None = None,
) -> QuerySet[Any]:
    """`articles` that match `query` (the `candidates`, unless given), annotated with
    `score`, best first."""
    if chosen is None:
        chosen = candidates(articles, query, match_all=match_all)
    if not chosen.ids:
        return articles.none()
    whens = [
        When(language=language, then=_rank(query, language, match_all=match_all))
        for language, terms in query.terms.items()
        if query.known_terms(language)
    ]
    return (
        # One array parameter rather than an IN list of up to 400 (less to parse and plan).
        articles.filter(
            RawSQL(
                '"knowledge_article"."id" = ANY(%s::bigint[])',
                (list(chosen.ids),),
                output_field=BooleanField(),
            )
        )
        .annotate(score=Case(*whens, default=Value(0.0), output_field=FloatField()))
        .order_by("-score", "-updated_at", "-id")
    )


@dataclass
class SearchResult:
    """What a search found: the ranked articles (a queryset, for paging), how many match
    (`total`, exact up to MATCH_COUNT_LIMIT: `total_is_capped` beyond), and whether every
    word is in them (`match_all`; false when all words together found nothing and any word
    was searched, or when a word is in no article at all)."""

    articles: QuerySet[Any]
    query: ArticleQuery
    match_all: bool
    total: int = 0

    @property
    def total_is_capped(self) -> bool:
        return self.total > MATCH_COUNT_LIMIT


def search(articles: QuerySet[Any], text: str) -> SearchResult:
    """`articles` (already filtered) matching `text`: all words first, else any word."""
    query = build_query(text)
    match_all = True
    chosen = candidates(articles, query, match_all=True)
    if chosen.matches == 0 and query.word_count > 1:
        match_all = False
        chosen = candidates(articles, query, match_all=False)
    ranked = matching(articles, query, match_all=match_all, chosen=chosen)
    total = chosen.matches
    return SearchResult(
        ranked, query, match_all=match_all and not query.has_unknown_words, total=total
    )


# --------------------------------------------------------------------------- the page's rows


def highlight(headline: str) -> SafeString:
    """Escape the snippet, then turn the highlight markers into <mark>."""
    escaped = str(escape(headline))
    if escaped.count(HIGHLIGHT_START) != escaped.count(HIGHLIGHT_STOP):
        return escape(headline.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_STOP, ""))
    # Escaped above: only our own markers become tags.
    return mark_safe(escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_STOP, "</mark>"))


def annotate_page(articles: list[Any], query: ArticleQuery) -> None:
    """Give each article of one page `snippet` (highlighted HTML) and `matched_terms`: one
    query, whatever the page size (ts_headline runs on these rows only)."""
    if not articles:
        return
    whens_headline = []
    whens_matched = []
    for language, terms in query.terms.items():
        if not terms:
            continue
        whens_headline.append(
            When(
                language=language,
                then=SearchHeadline(
                    "plain_body",
                    _raw(query.tsquery(language, match_all=False)),
                    config=SEARCH_CONFIGS[language],
                    start_sel=HIGHLIGHT_START,
                    stop_sel=HIGHLIGHT_STOP,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
            )
        )
        whens_matched.append(
            When(
                language=language,
                then=RawSQL(
                    "ARRAY(SELECT unnest(tsvector_to_array(search_vector))"
                    " INTERSECT SELECT unnest(%s::text[]))",
                    (query.lexemes(language),),
                ),
            )
        )
    if not whens_headline:
        return
    rows = {
        row["pk"]: row
        for row in Article.objects.filter(pk__in=[article.pk for article in articles])
        .annotate(
            headline=Case(*whens_headline, default=Value(""), output_field=TextField()),
            matched=Case(
                *whens_matched,
                default=Value([]),
                output_field=ArrayField(CharField()),
            ),
        )
        .values("pk", "headline", "matched", "language")
    }
    for article in articles:
        row = rows.get(article.pk)
        if row is None:
            continue
        article.snippet = highlight(row["headline"] or "")
        article.matched_terms = query.words_for(row["language"], row["matched"] or [])


PASSAGE_MIN_LENGTH = 40  # characters: headings and one-word lines are no passage to quote

_PASSAGES_SQL = """
SELECT DISTINCT ON (article.id) article.id, passage.text
  FROM knowledge_article article
 CROSS JOIN LATERAL unnest(string_to_array(article.plain_body, E'\\n\\n'))
       WITH ORDINALITY AS passage(text, position)
 WHERE article.id = ANY(%(ids)s)
 ORDER BY article.id,
          length(passage.text) >= %(min_length)s DESC,
          CASE article.language
               WHEN 'en' THEN ts_rank(to_tsvector('english', passage.text),
                                      to_tsquery('simple', %(en)s))
               ELSE ts_rank(to_tsvector('german', passage.text), to_tsquery('simple', %(de)s))
          END DESC NULLS LAST,
          passage.position
"""


def best_passages(article_ids: list[int], query: ArticleQuery) -> dict[int, str]:
    """The paragraph of each article that matches `query` best (the first one if none does):
    what "insert a quoted passage" puts into a draft."""
    if not article_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            _PASSAGES_SQL,
            {
                "ids": article_ids,
                "min_length": PASSAGE_MIN_LENGTH,
                "de": query.tsquery("de", match_all=False) or None,
                "en": query.tsquery("en", match_all=False) or None,
            },
        )
        return dict(cursor.fetchall())
