"""The rule book as the engine reads it, and the small helpers shared by the suggest path and
the training (a module of its own, so triage.actions.training needs no import of the package)."""

import logging
import re

from monitoring.models import Mention
from triage.burst_text import WORD
from triage.choices import INCIDENT_RULE_KINDS, RuleKind
from triage.models import Rule
from triage.rules import RuleBook

logger = logging.getLogger("triage.actions")
REVIEW_HINTS = ("review", "bewertung", "trustpilot", "holidaycheck", "tripadvisor")


def load_rulebook() -> RuleBook:
    """The active rules, as the engine reads them (one query)."""
    book = RuleBook()
    for rule in Rule.objects.filter(is_active=True).order_by("pk"):
        pattern = rule.pattern.strip()
        if not pattern:
            continue
        if rule.kind == RuleKind.PRIVATE_DATA:
            try:
                book.private_data.append((rule.label or pattern, re.compile(pattern, re.I)))
            except re.error:
                logger.warning("triage rule %s is not a valid regular expression", rule.pk)
        elif rule.kind in INCIDENT_RULE_KINDS:
            word = pattern.lower()
            if not WORD.match(word):
                logger.warning("triage rule %s is not a single word", rule.pk)
                continue
            target_words = {
                RuleKind.INCIDENT_TERM: book.incident_terms,
                RuleKind.INCIDENT_SUBJECT: book.incident_subjects,
                RuleKind.INCIDENT_PLACE: book.incident_places,
            }[rule.kind]
            target_words[word] = rule.label.strip() or pattern
        elif rule.kind == RuleKind.DEPARTMENT_KEYWORD:
            if rule.department:
                book.departments.setdefault(rule.department, []).append(pattern.lower())
        else:
            target = {
                RuleKind.BRAND: book.brands,
                RuleKind.INSULT: book.insults,
                RuleKind.NEGATIVE: book.negative,
                RuleKind.POSITIVE: book.positive,
                RuleKind.REQUEST: book.requests,
                RuleKind.NOISE: book.noise,
                RuleKind.FAKE_REVIEW: book.fake_review,
            }[rule.kind]
            target.append(pattern.lower())
    return book


def _is_review(mention: Mention) -> bool:
    name = f"{mention.channel.slug} {mention.channel.name} {mention.url}".lower()
    return any(hint in name for hint in REVIEW_HINTS)


def _as_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
