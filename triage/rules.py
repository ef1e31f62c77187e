"""The cold-start triage: readable rules, one reason per match (pure functions, no database).

`suggest(text, ...)` returns every head of issue 13 with a confidence and the reasons behind
it. Rules come in as a `RuleBook` (built from the admin-editable `Rule` rows by
`triage.actions.load_rulebook`).
"""

import re
from dataclasses import dataclass, field
from typing import Any

from triage.choices import RULES_MODEL, Route, Tonality

_WORD = re.compile(r"[a-zäöüß]+")
_LINK = re.compile(r"https?://\S+", re.I)
_SUPERLATIVES = re.compile(
    r"\b(beste[nrs]?|best|perfekt|perfect|amazing|unglaublich|wahnsinn|hervorragend|"
    r"schlechteste[nrs]?|worst|horrible|katastrophal)\b",
    re.I,
)
_DE = {
    "der",
    "die",
    "das",
    "und",
    "ist",
    "nicht",
    "ich",
    "mit",
    "ein",
    "eine",
    "schon",
    "auf",
    "für",
    "kein",
    "heute",
    "wie",
    "mein",
    "wieder",
    "bei",
    "noch",
    "wir",
    "sie",
    "hab",
}
_EN = {
    "the",
    "and",
    "is",
    "not",
    "my",
    "with",
    "a",
    "an",
    "for",
    "again",
    "today",
    "how",
    "i",
    "you",
    "it",
    "this",
    "was",
    "still",
    "why",
    "your",
    "can",
    "no",
    "to",
}


@dataclass
class RuleBook:
    brands: list[str] = field(default_factory=list)
    departments: dict[str, list[str]] = field(default_factory=dict)  # slug → keywords
    insults: list[str] = field(default_factory=list)
    private_data: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    positive: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)
    fake_review: list[str] = field(default_factory=list)
    # burst detection's own words: word → concept, subject or place (triage.burst_text)
    incident_terms: dict[str, str] = field(default_factory=dict)
    incident_subjects: dict[str, str] = field(default_factory=dict)
    incident_places: dict[str, str] = field(default_factory=dict)


def _word_prefixes(words: set[str]) -> set[str]:
    """Every prefix of six letters or more of the text's words: a long keyword matches a word
    it begins (the set is built once per text instead of a scan of the words per keyword)."""
    return {word[:end] for word in words for end in range(6, len(word) + 1)}


def _matches(
    lowered: str, words: set[str], keywords: list[str], prefixes: set[str] | None = None
) -> list[str]:
    """The keywords found: a single word must match a whole word (a keyword of more than
    five letters also the beginning of one), a phrase or symbol a substring."""
    if prefixes is None:
        prefixes = _word_prefixes(words)
    found = []
    for keyword in keywords:
        if keyword.isalpha():
            hit = keyword in words or (len(keyword) > 5 and keyword in prefixes)
        else:
            hit = keyword in lowered
        if hit:
            found.append(keyword)
    return found


def detect_language(words: list[str]) -> tuple[str, float]:
    de = sum(word in _DE for word in words) + sum(ch in "äöüß" for word in words for ch in word)
    en = sum(word in _EN for word in words)
    if not de and not en:
        return "other", 0.34
    total = de + en
    return ("de", de / total) if de >= en else ("en", en / total)


def suggest(
    text: str,
    rules: RuleBook,
    *,
    is_review: bool = False,
    is_own_account: bool = False,
    near_duplicate: bool = False,
) -> dict[str, Any]:
    """Every head for one mention text, with confidences and the reasons."""
    lowered = text.lower()
    word_list = _WORD.findall(lowered)
    words = set(word_list)
    prefixes = _word_prefixes(words)
    reasons: list[str] = []
    language, language_conf = detect_language(word_list)

    insults = _matches(lowered, words, rules.insults, prefixes)
    abusive = bool(insults)
    if abusive:
        reasons.append(f"abusive: insult „{insults[0]}“")

    private = [label for label, pattern in rules.private_data if pattern.search(text)]
    if private:
        reasons.append("private data: " + ", ".join(private) + " posted in public")

    negative = _matches(lowered, words, rules.negative, prefixes)
    positive = _matches(lowered, words, rules.positive, prefixes)
    requests = _matches(lowered, words, rules.requests, prefixes)
    noise = _matches(lowered, words, rules.noise, prefixes)
    departments = {
        slug: hits
        for slug, keywords in rules.departments.items()
        if (hits := _matches(lowered, words, keywords, prefixes))
    }

    fake = {"suspect": False, "score": 0.0, "reasons": []}
    if is_review:
        indicators = [f"„{hit}“" for hit in _matches(lowered, words, rules.fake_review, prefixes)]
        if _LINK.search(text):
            indicators.append("link in the review")
        if len(word_list) < 25 and _SUPERLATIVES.search(text) and not departments:
            indicators.append("thin content with superlatives")
        if near_duplicate:
            indicators.append("near-duplicate of another author's review")
        score = min(1.0, 0.45 * len(indicators))
        fake = {"suspect": score >= 0.45, "score": round(score, 2), "reasons": indicators}
        if fake["suspect"]:
            reasons.append("fake review suspected: " + "; ".join(indicators))

    # Tonality: sarcasm and insults count as negative; a question without mood is neutral.
    if abusive or (negative and len(negative) >= len(positive)):
        tonality, tone_conf = Tonality.NEGATIVE, min(0.95, 0.55 + 0.1 * len(negative))
        if negative:
            reasons.append(f"negative: „{negative[0]}“")
    elif positive:
        tonality, tone_conf = Tonality.POSITIVE, min(0.95, 0.55 + 0.1 * len(positive))
        reasons.append(f"positive: „{positive[0]}“")
    else:
        tonality, tone_conf = Tonality.NEUTRAL, 0.5

    # Relevance and route.
    if is_own_account:
        relevant, route, rel_conf = False, Route.NONE, 0.99
        reasons.append("the brand's own post")
    elif fake["suspect"]:
        relevant, route, rel_conf = False, Route.NONE, 0.7
    elif noise and not requests:
        relevant, route, rel_conf = False, Route.NONE, 0.7
        reasons.append(f"not relevant: „{noise[0]}“")
    elif private or departments or requests or (negative and not abusive):
        relevant, rel_conf = True, min(0.95, 0.55 + 0.1 * (len(requests) + len(departments)))
        route = Route.SUPPORT if private or departments else Route.CM
        if requests:
            reasons.append(f"request: „{requests[0]}“")
    elif abusive:
        relevant, route, rel_conf = False, Route.NONE, 0.6
        reasons.append("pure insult without a concrete issue")
    elif positive:
        relevant, route, rel_conf = False, Route.CM, 0.6
        reasons.append("praise: an engagement reply")
    else:
        relevant, route, rel_conf = False, Route.NONE, 0.5

    department = ""
    if route == Route.SUPPORT and departments:
        department = max(departments, key=lambda slug: len(departments[slug]))
        reasons.append(f"department {department}: „{departments[department][0]}“")
    elif route == Route.SUPPORT:
        reasons.append("support: personal data needed")
    route_conf = 0.8 if private else (0.65 if departments else rel_conf)
    return {
        "relevant": relevant,
        "route": str(route),
        "department": department,
        "needs_private_data": bool(private),
        "tonality": str(tonality),
        "abusive": abusive,
        "fake_review": fake,
        "language": language,
        "confidence": {
            "relevant": round(rel_conf, 2),
            "route": round(route_conf, 2),
            "department": round(0.6 if department else rel_conf, 2),
            "needs_private_data": 0.85 if private else 0.6,
            "tonality": round(tone_conf, 2),
            "abusive": 0.85 if abusive else 0.7,
            "fake_review": round(max(fake["score"], 0.5), 2),
            "language": round(language_conf, 2),
        },
        "reasons": reasons,
        "model": RULES_MODEL,
    }
