"""Benchmark: search in the information centre at 100,000 articles (target < 50 ms).

    .venv/bin/python -m bench.knowledge [--articles 100000] [--runs 15] [--reseed]

Seeds its own database (sd_bench_knowledge) once: the migrations, the demo's hand-written
articles through knowledge.actions, and `--articles` synthetic ones written by COPY from a
German and English service vocabulary (nouns of the demo brands' domains and their
compounds): each article is about two or three topic words (compounds, in its title, tags
and text) and written with everyday words drawn by a Zipf law (so "Paket" is in most
logistics articles and a compound in about a hundred) and stop words; 80 % German, spread
over five departments and ten products; then the search vectors and the word list in two
statements, as knowledge.actions.index_article computes them one by one. A later run
reuses the database if it holds as many articles (`--reseed` forces a new seed).

Then it times what the information centre's list does for a search, the Django template
aside: the query built (stems, typo neighbours, compound parts), the count, the first page
of 20 ranked articles and their highlighted snippets and matched terms; for selective and
broad words, typos, compounds, English, filters, and the suggestions for a mention of 30
words (articles only). Each query runs `--runs` times after one warm-up; prints the median
and 95th percentile per query and over all, and writes bench/results/knowledge.json.
"""

import argparse
import io
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import (
    database_url,
    load_average,
    manage,
    percentile,
    recreate_database,
    seeded_rows,
    write_json,
)

DATABASE = "sd_bench_knowledge"
TARGET_MS = 50
PAGE_SIZE = 20
SEED = 20261202

DOMAINS: dict[str, list[str]] = {
    "logistics": ["Paket", "Sendung", "Zustellung", "Paketzentrum", "Filiale", "Abholcode",
                  "Blitzbox", "Nachforschung", "Sendungsnummer", "Lieferung", "Retoure",
                  "Adresse", "Nachbar", "Ablageort", "Zusteller", "Verpackung", "Etikett",
                  "Zoll", "Express", "Rücksendung", "Lieferzeit", "Depot", "Scanner"],
    "billing": ["Rechnung", "Erstattung", "Gutschrift", "Zahlung", "Lastschrift", "Mahnung",
                "Betrag", "Fahrpreis", "Konto", "Kündigung", "Vertrag", "Tarif", "Gebühr",
                "Überweisung", "Frist", "Entschädigung", "Beleg", "Quittung", "Bonus"],
    "technical": ["Router", "Leitung", "Verbindung", "Störung", "Internet", "Telefon",
                  "Anschluss", "Techniker", "Termin", "Geschwindigkeit", "Modem", "Kabel",
                  "Passwort", "Anmeldung", "App", "Update", "Firmware", "Netz", "Signal"],
    "sales": ["Buchung", "Zimmer", "Reservierung", "Angebot", "Upgrade", "Stornierung",
              "Anreise", "Abreise", "Gruppe", "Veranstaltung", "Rabatt", "Fahrkarte",
              "Sitzplatz", "Zug", "Verbindungssuche", "Fahrplan", "Sonderzug", "Hotel"],
    "product": ["Motorrad", "Bremse", "Rückruf", "Garantie", "Werkstatt", "Ersatzteil",
                "Reifen", "Motor", "Getriebe", "Inspektion", "Fahrgestellnummer", "Zubehör",
                "Helm", "Kette", "Batterie", "Display", "Schalter", "Lampe", "Gabel"],
}  # fmt: skip
PRODUCTS = {
    "logistics": ["PaketBlitz Paketversand", "PaketBlitz Blitzbox"],
    "billing": ["ZugPlus Fernverkehr", "Telvia Mobilfunk"],
    "technical": ["Telvia DSL", "Telvia Glasfaser"],
    "sales": ["Lindenhaus Hotels", "ZugPlus Regionalverkehr"],
    "product": ["Kessler Motorrad K 750", "Kessler Motorrad R 1200"],
}
VERBS = ["prüfen", "ändern", "stornieren", "erstatten", "zustellen", "verschieben", "melden",
         "anfordern", "bestätigen", "senden", "warten", "tauschen", "reparieren", "buchen",
         "kündigen", "verlängern", "abholen", "zurückschicken", "einrichten", "neustarten",
         "verloren", "beschädigt", "verspätet", "ausgefallen", "gesperrt"]  # fmt: skip
ADJECTIVES = ["neu", "alt", "kostenlos", "schnell", "sicher", "defekt", "falsch", "richtig",
              "öffentlich", "privat", "persönlich", "dringend", "zusätzlich", "verfügbar",
              "gültig", "monatlich", "digital", "regional", "international", "einfach"]  # fmt: skip
STOP = ["der", "die", "das", "und", "oder", "mit", "für", "bei", "nach", "vor", "ein",
        "eine", "wir", "du", "ist", "sind", "wird", "kann", "nicht", "auch", "bitte", "in",
        "am", "im", "zu", "den", "dem", "von", "auf", "wenn", "dann"]  # fmt: skip
ENGLISH = ["parcel", "delivery", "tracking", "refund", "invoice", "contract", "router",
           "connection", "booking", "room", "cancellation", "warranty", "recall", "brake",
           "payment", "account", "driver", "address", "train", "ticket", "delay", "hotel",
           "repair", "update", "check", "send", "change", "lost", "damaged", "the", "a",
           "and", "for", "with", "your", "we", "please", "is", "to", "of"]  # fmt: skip

QUERIES: list[tuple[str, str, dict[str, str]]] = [
    ("selective", "Blitzboxnachforschung", {}),
    ("selective", "Fahrgestellnummerrückruf Werkstatt", {}),
    ("broad", "Paket", {}),
    ("broad", "Paket verloren", {}),
    ("broad", "Rechnung Erstattung", {}),
    ("compound", "Rückerstattung", {}),
    ("compound", "Paketverlust", {}),
    ("compound", "Routerstörung", {}),
    ("typo", "Erstatung", {}),
    ("typo", "Sendungsnumer", {}),
    ("typo", "Rechnnug prüfen", {}),
    ("english", "parcel lost", {"language": "en"}),
    ("filtered", "Störung", {"department": "technical"}),
    ("filtered", "Buchung", {"tag": "buchung"}),
    ("filtered", "Zimmer stornieren", {"product": "Lindenhaus Hotels"}),
    ("nothing", "Zollgebührenrechner Schweiz", {}),
]
MENTION = (
    "@PaketBlitz Mein Paket ist seit einer Woche verschwunden, die Sendungsverfolgung zeigt "
    "seit Montag nichts Neues, laut App liegt es im Paketzentrum. Was kann ich tun? Ich "
    "brauche die Lieferung dringend, bitte um Rückmeldung und Erstattung der Versandkosten."
)


def vocabulary(rng: random.Random) -> dict[str, tuple[list[str], list[str]]]:
    """Per department: its everyday words (nouns, verbs, adjectives; drawn by a Zipf law)
    and its topic words (the compounds of its nouns: an article is about two or three)."""
    words: dict[str, tuple[list[str], list[str]]] = {}
    for department, nouns in DOMAINS.items():
        compounds = [
            first + second.lower() for first in nouns for second in nouns if first != second
        ]
        rng.shuffle(compounds)
        everyday = nouns + VERBS + ADJECTIVES
        words[department] = (everyday, compounds)
    return words


def zipf_weights(count: int) -> list[float]:
    return [1 / (rank + 1) for rank in range(count)]


def synthetic_articles(count: int, rng: random.Random) -> Any:
    """Rows for COPY into knowledge_article: (language, title, body, plain_body, tags,
    product, department, public_url, status, version, created_at, updated_at,
    published_at). Each article is about two or three topic words (in its title, tags and
    text), written with everyday words of its department and stop words."""
    words = vocabulary(rng)
    weights = {department: zipf_weights(len(pool[0])) for department, pool in words.items()}
    english_weights = zipf_weights(len(ENGLISH) - 11)
    departments = list(DOMAINS)
    now = datetime.now(UTC).isoformat()
    for number in range(count):
        department = departments[number % len(departments)]
        product = rng.choice(PRODUCTS[department])
        everyday, compounds = words[department]
        if rng.random() < 0.8:
            language, stop = "de", STOP
            topic = rng.sample(compounds, k=rng.randint(2, 3))
            pool, pool_weights = everyday, weights[department]
        else:
            language, stop = "en", ENGLISH[-11:]
            topic = rng.sample(ENGLISH[:29], k=2)
            pool, pool_weights = ENGLISH[:-11], english_weights
        title = " ".join(topic + rng.choices(pool, pool_weights, k=rng.randint(1, 3)))
        sentences = []
        for _sentence in range(rng.randint(6, 14)):
            mixed = (
                rng.choices(pool, pool_weights, k=rng.randint(5, 10))
                + rng.choices(stop, k=4)
                + ([rng.choice(topic)] if rng.random() < 0.5 else [])
            )
            rng.shuffle(mixed)
            sentence = " ".join(mixed)
            sentences.append(sentence[0].upper() + sentence[1:] + ".")
        body = " ".join(sentences)
        tags = sorted({word.lower() for word in topic})
        yield (
            language, title[:200], body, body, "{" + ",".join(tags) + "}", product,
            department, "", "published", "1", now, now, now,
        )  # fmt: skip


INDEX_ALL_SQL = """
UPDATE knowledge_article SET
       search_vector = setweight(to_tsvector(chosen.config, title), 'A')
    || setweight(to_tsvector(chosen.config, array_to_string(tags, ' ') || ' ' || product), 'B')
    || setweight(to_tsvector(chosen.config, plain_body), 'D'),
       title_vector = setweight(to_tsvector(chosen.config, title), 'A')
    || setweight(to_tsvector(chosen.config, array_to_string(tags, ' ') || ' ' || product), 'B')
  FROM (VALUES ('de', 'german'::regconfig), ('en', 'english'::regconfig))
       AS chosen(language, config)
 WHERE knowledge_article.language = chosen.language AND search_vector IS NULL
"""
WORDS_ALL_SQL = """
INSERT INTO knowledge_searchword (language, word, lexeme)
SELECT DISTINCT ON (language, word) language, word,
       (tsvector_to_array(to_tsvector(CASE language WHEN 'en' THEN 'english'::regconfig
                                      ELSE 'german'::regconfig END, word)))[1]
  FROM (SELECT language, lower(word) AS word
          FROM knowledge_article,
               regexp_split_to_table(title || ' ' || plain_body, '[^[:alpha:]]+') AS word
         WHERE length(word) BETWEEN 3 AND 64) AS words
 WHERE tsvector_to_array(to_tsvector(CASE language WHEN 'en' THEN 'english'::regconfig
                                     ELSE 'german'::regconfig END, word)) <> '{}'
ON CONFLICT (language, word) DO NOTHING
"""


def seed(count: int) -> dict[str, Any]:
    import psycopg2

    from bench.common import bench_environment

    started = time.monotonic()
    recreate_database(DATABASE)
    manage(bench_environment(DATABASE), "migrate", "--no-input", "-v", "0")
    _setup(DATABASE)
    from django.contrib.auth import get_user_model

    from knowledge.access import Departments
    from tickets import demo_knowledge

    lead = get_user_model().objects.create_user("bench-lead", password=None, is_superuser=True)
    departments = Departments(known={slug: slug for slug in DOMAINS}, own=frozenset())
    demo_knowledge.ensure_articles(
        {name: lead for name in ("tina", "lukas", "berta", "theo", "vera", "paul")},
        departments,
        today=datetime.now(UTC).date(),
    )
    rng = random.Random(SEED)
    buffer = io.StringIO()
    for row in synthetic_articles(count, rng):
        buffer.write("\t".join(value.replace("\t", " ") for value in row) + "\n")
    buffer.seek(0)
    generated = time.monotonic()
    connection = psycopg2.connect(database_url(DATABASE))
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY knowledge_article (language, title, body, plain_body, tags, product, "
            "department, public_url, status, version, created_at, updated_at, published_at) "
            "FROM STDIN",
            buffer,
        )
        copied = time.monotonic()
        cursor.execute(INDEX_ALL_SQL)
        indexed = time.monotonic()
        cursor.execute(WORDS_ALL_SQL)
        cursor.execute("VACUUM ANALYZE knowledge_article")
        cursor.execute("VACUUM ANALYZE knowledge_searchword")
        cursor.execute("SELECT count(*) FROM knowledge_article")
        articles = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM knowledge_searchword")
        words = cursor.fetchone()[0]
    connection.close()
    return {
        "articles": articles,
        "words": words,
        "generate_seconds": round(generated - started, 1),
        "copy_seconds": round(copied - generated, 1),
        "index_seconds": round(indexed - copied, 1),
        "seed_seconds": round(time.monotonic() - started, 1),
    }


def _setup(database: str) -> None:
    from bench.common import setup_django

    if "django" not in sys.modules or not _django_ready():
        setup_django(database)


def _django_ready() -> bool:
    from django.apps import apps

    return apps.ready


def article_count() -> int:
    return seeded_rows(DATABASE, "knowledge_article")


def search_page(text: str, filters: dict[str, str]) -> tuple[int, list[Any]]:
    """What the list view computes for one search (template rendering aside)."""
    from django.core.paginator import Paginator

    from knowledge import search
    from knowledge.filters import ArticleFilter
    from knowledge.models import Article

    articles = ArticleFilter(filters, queryset=Article.objects.all()).qs
    result = search.search(articles, text)
    page = Paginator(result.articles, PAGE_SIZE).get_page(1)
    rows = list(page.object_list)
    search.annotate_page(rows, result.query)
    return result.total, rows  # matches, counted up to search.MATCH_COUNT_LIMIT + 1


def suggestions(text: str) -> list[Any]:
    from knowledge import search
    from tickets.suggestions import suggested_articles

    return suggested_articles(search.build_query(text, typos=False), language="de")


def timed(call: Any, runs: int) -> tuple[list[float], Any]:
    outcome = call()  # warm-up
    samples = []
    for _run in range(runs):
        started = time.perf_counter()
        outcome = call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--json", default="knowledge.json", help="file name in bench/results")
    options = parser.parse_args(argv)
    load_before = load_average()
    seeded: dict[str, Any] = {"reused": True}
    if options.reseed or article_count() < options.articles:
        print(f"seeding {options.articles:,} articles into {DATABASE} …", flush=True)
        seeded = {"reused": False, **seed(options.articles)}
        print(f"seeded: {seeded}", flush=True)
    _setup(DATABASE)
    rows = []
    every: list[float] = []
    for kind, text, filters in QUERIES:
        samples, (count, page) = timed(lambda t=text, f=filters: search_page(t, f), options.runs)
        every.extend(samples)
        rows.append(
            {
                "kind": kind,
                "query": text,
                "filters": filters,
                "matches": count,
                "first": page[0].title if page else "",
                "median_ms": round(statistics.median(samples), 2),
                "p95_ms": round(percentile(samples, 0.95), 2),
            }
        )
    samples, offered = timed(lambda: suggestions(MENTION), options.runs)
    rows.append(
        {
            "kind": "suggestions",
            "query": MENTION[:60] + "…",
            "filters": {},
            "matches": len(offered),
            "first": offered[0].article.title if offered else "",
            "median_ms": round(statistics.median(samples), 2),
            "p95_ms": round(percentile(samples, 0.95), 2),
        }
    )
    every.extend(samples)
    overall = {
        "median_ms": round(statistics.median(every), 2),
        "p95_ms": round(percentile(every, 0.95), 2),
        "max_query_median_ms": max(row["median_ms"] for row in rows),
    }
    figures = {
        "articles": article_count(),
        "runs": options.runs,
        "seed": seeded,
        "queries": rows,
        "overall": overall,
        "target_ms": TARGET_MS,
        "target_met": overall["p95_ms"] < TARGET_MS,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    print(f"\n{figures['articles']:,} articles, {options.runs} runs per query\n")
    print(f"{'kind':<12} {'query':<32} {'matches':>8} {'median':>9} {'p95':>9}  first")
    for row in rows:
        label = row["query"] + (f" {row['filters']}" if row["filters"] else "")
        timing = f"{row['median_ms']:>7.1f}ms {row['p95_ms']:>7.1f}ms"
        print(f"{row['kind']:<12} {label[:32]:<32} {row['matches']:>8,} {timing}  "
              f"{row['first'][:40]}")  # fmt: skip
    print(f"\nall searches: median {overall['median_ms']:.1f} ms, p95 {overall['p95_ms']:.1f} ms "
          f"(target < {TARGET_MS} ms: {'met' if figures['target_met'] else 'MISSED'})")  # fmt: skip
    path = write_json(options.json, figures)
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
