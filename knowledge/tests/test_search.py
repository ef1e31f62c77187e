"""Search on hand-written articles: German stemming, typo and compound tolerance, English
stemming for English articles, ranking, filters, highlighted and escaped snippets."""

from typing import Any

import pytest

from knowledge import search
from knowledge.filters import ArticleFilter
from knowledge.models import Article
from knowledge.tests.helpers import write

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(team_lead: Any) -> dict[str, Article]:
    """A few articles as a desk would write them."""
    return {
        "refund": write(
            team_lead,
            "Erstattung bei Zugausfall",
            "Fällt ein Zug aus, gibt es eine Erstattung des Fahrpreises. Den Antrag stellst du "
            "im Kundenkonto unter Fahrgastrechte.",
            tags=["fahrgastrechte", "erstattung"],
            product="ZugPlus Fernverkehr",
            department="billing",
        ),
        "parcel": write(
            team_lead,
            "Paket verloren: Nachforschungsauftrag",
            "Zeigt die Sendungsverfolgung drei Werktage keinen neuen Status, starten wir einen "
            "Nachforschungsauftrag. Die Sendungsnummer bitte per Direktnachricht schicken.",
            tags=["paket", "verlust"],
            product="PaketBlitz",
            department="logistics",
        ),
        "router": write(
            team_lead,
            "Router neu starten",
            "Bei Verbindungsabbrüchen den Router für dreißig Sekunden vom Strom trennen.",
            tags=["internet"],
            product="Telvia DSL",
            department="technical",
        ),
        "parcel_en": write(
            team_lead,
            "Lost parcel: tracing request",
            "If the tracking shows no new status for three working days, we open a tracing "
            "request for the parcels.",
            language="en",
            tags=["parcel"],
            product="PaketBlitz",
            department="logistics",
        ),
    }


def titles(text: str, articles: Any = None) -> list[str]:
    result = search.search(articles if articles is not None else Article.objects.all(), text)
    return [article.title for article in result.articles]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Erstattungen", "Erstattung bei Zugausfall"),  # inflection: German stemming
        ("Pakete", "Paket verloren: Nachforschungsauftrag"),
        ("verlorenes Paket", "Paket verloren: Nachforschungsauftrag"),
        ("Zugausfälle", "Erstattung bei Zugausfall"),
        ("Verbindungsabbruch", "Router neu starten"),
    ],
)
def test_german_stemming_finds_other_forms_of_a_word(
    library: dict[str, Article], query: str, expected: str
) -> None:
    assert titles(query)[:1] == [expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Rückerstattung", "Erstattung bei Zugausfall"),  # compound: contains "erstattung"
        ("Paketverlust", "Paket verloren: Nachforschungsauftrag"),  # "paket" + "verlust"
        ("Sendungsnummern", "Paket verloren: Nachforschungsauftrag"),
    ],
)
def test_compound_words_find_their_known_parts(
    library: dict[str, Article], query: str, expected: str
) -> None:
    assert titles(query)[:1] == [expected]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Erstatung", "Erstattung bei Zugausfall"),
        ("Nachforschungsauftrg", "Paket verloren: Nachforschungsauftrag"),
        ("Routr", "Router neu starten"),
        ("Packet verloren", "Paket verloren: Nachforschungsauftrag"),
        ("Sendungsverfolgng Paket", "Paket verloren: Nachforschungsauftrag"),
    ],
)
def test_typos_find_the_word_meant(library: dict[str, Article], query: str, expected: str) -> None:
    assert titles(query)[:1] == [expected]


def test_a_word_no_article_knows_finds_nothing(library: dict[str, Article]) -> None:
    assert titles("Zollgebühren") == []


def test_english_articles_are_stemmed_in_english(library: dict[str, Article]) -> None:
    assert titles("parcel tracing", Article.objects.filter(language="en")) == [
        "Lost parcel: tracing request"
    ]


def test_all_words_first_then_any_word(library: dict[str, Article]) -> None:
    both = search.search(Article.objects.all(), "Paket Router")

    assert both.match_all is False  # no article has both words
    assert {article.title for article in both.articles} == {
        "Paket verloren: Nachforschungsauftrag",
        "Router neu starten",
    }
    assert search.search(Article.objects.all(), "Paket Sendungsverfolgung").match_all is True


def test_a_word_in_the_title_outranks_the_same_word_in_the_text(team_lead: Any) -> None:
    write(team_lead, "Allgemeines", "Hier steht auch etwas über den Router und anderes mehr.")
    write(team_lead, "Router", "Kurz.")

    assert titles("Router") == ["Router", "Allgemeines"]


def test_filters_by_tag_product_department_and_language(library: dict[str, Article]) -> None:
    def filtered(**params: str) -> set[str]:
        articles = Article.objects.exclude(tags__contains=["guidelines"])
        return {article.title for article in ArticleFilter(params, queryset=articles).qs}

    assert filtered(tag="Paket") == {"Paket verloren: Nachforschungsauftrag"}
    assert filtered(product="paketblitz") == {
        "Paket verloren: Nachforschungsauftrag",
        "Lost parcel: tracing request",
    }
    assert filtered(department="technical") == {"Router neu starten"}
    assert filtered(language="en") == {"Lost parcel: tracing request"}


def test_drafts_and_archived_articles_are_only_listed_when_asked_for(
    library: dict[str, Article], team_lead: Any
) -> None:
    write(team_lead, "Entwurf zur Erstattung", "Noch nicht fertig.", status="draft")

    published = ArticleFilter({}, queryset=Article.objects).qs
    drafts = ArticleFilter({"status": "draft"}, queryset=Article.objects).qs

    assert "Entwurf zur Erstattung" not in {article.title for article in published}
    assert [article.title for article in drafts] == ["Entwurf zur Erstattung"]


def test_snippets_highlight_the_matches_and_escape_the_article_text(team_lead: Any) -> None:
    write(team_lead, "Hinweis", "Die Erstattung <b>kommt</b> per Überweisung.")
    result = search.search(Article.objects.all(), "Rückerstattung")
    page = list(result.articles)

    search.annotate_page(page, result.query)

    assert "<mark>Erstattung</mark>" in page[0].snippet
    assert "<b>" not in page[0].snippet  # article text never becomes markup
    assert page[0].matched_terms == ["rückerstattung → erstattung"]


def test_the_best_passage_is_the_paragraph_that_matches(team_lead: Any) -> None:
    article = write(
        team_lead,
        "Paketfragen",
        "Allgemeine Hinweise zu unseren Filialen und den Öffnungszeiten am Wochenende.\n\n"
        "Ist ein Paket verloren, starten wir nach drei Werktagen einen Nachforschungsauftrag.",
    )

    passages = search.best_passages([article.pk], search.build_query("Paket verschwunden"))

    assert passages[article.pk].startswith("Ist ein Paket verloren")


def test_handles_links_and_numbers_are_no_search_words() -> None:
    assert search.words_of("@PaketBlitz Sendung PB3319047721DE https://x.example/a #paket 42") == [
        "sendung",
        "paket",
    ]


def test_beyond_the_candidates_the_count_is_capped_and_the_rarest_word_picks_the_text(
    team_lead: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RANK_CANDIDATES", 2)
    monkeypatch.setattr(search, "MATCH_COUNT_LIMIT", 2)
    monkeypatch.setattr(search, "FOCUS_TERMS", 1)
    monkeypatch.setattr(search, "lexeme_frequencies", lambda: {"paket": 0.9})
    for number in range(4):
        write(team_lead, f"Hinweis {number}", f"Ein Paket kam an, Nummer {number}.")
    rare = write(team_lead, "Zustellung", "Ein Paket mit Abholcode liegt in der Filiale.")

    broad = search.search(Article.objects.all(), "Paket")
    assert broad.total == 3 and broad.total_is_capped  # counted up to the limit + 1
    assert len(broad.articles) == 2  # only the candidates are ranked

    # More match any word than are ranked: the rarest word ("Abholcode") picks the text
    # candidates, so the article with both words is among them, first.
    either = search.matching(
        Article.objects.all(), search.build_query("Paket Abholcode"), match_all=False
    )
    assert list(either)[0] == rare


def test_a_search_is_a_constant_number_of_statements(
    library: dict[str, Article], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(5):  # terms, candidates, page count, page, snippets
        result = search.search(Article.objects.all(), "verlorene Pakete")
        page = list(result.articles[:20])
        assert result.articles.count() == len(page)
        search.annotate_page(page, result.query)
    assert page[0].snippet


def test_more_title_matches_than_candidates_cap_the_count_of_a_long_text(
    team_lead: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "RANK_CANDIDATES", 2)
    monkeypatch.setattr(search, "MATCH_COUNT_LIMIT", 2)
    monkeypatch.setattr(search, "FOCUS_TERMS", 1)
    monkeypatch.setattr(search, "lexeme_frequencies", lambda: {"paket": 0.9})
    for number in range(3):
        write(team_lead, f"Paket {number}", "Ein Hinweis.")
    rare = write(team_lead, "Zustellung", "Der Abholcode liegt in der Filiale.")

    chosen = search.candidates(
        Article.objects.all(), search.build_query("Paket Abholcode"), match_all=False
    )
    # Three titles have "Paket": more match than are ranked, without counting the text.
    assert chosen.matches == search.MATCH_COUNT_LIMIT + 1
    assert rare.pk in chosen.ids and len(chosen.ids) == 3  # the rarest word's + 2 titles
