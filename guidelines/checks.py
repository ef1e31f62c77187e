"""Guideline checks on reply drafts (pure: no database, no clock).

`check_reply(text, context)` returns findings that help the author; nothing here blocks a
reply. Every rule is a small function below, and every word list it uses is a module-level
tuple, so a reader can see exactly why a finding was raised (DESIGN §2, community rules).
Lists are matched case-insensitively at the start of a word ("dank" matches "Dankeschön").
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

WARNING = "warning"
STRONG = "strong"

PUBLIC = "public"

# Rule names: stable identifiers the UI and the tests use.
RULE_LENGTH = "length_limit"
RULE_PERSONAL_ADDRESS = "personal_address"
RULE_TEMPLATE_UNCHANGED = "template_unchanged"
RULE_PERSONAL_DATA = "personal_data"
RULE_COMPLAINT = "complaint_without_thanks"
RULE_WRONG_CHANNEL = "wrong_channel"

# The mention complains (German and English).
COMPLAINT_SIGNALS = (
    "ärgerlich",
    "frechheit",
    "enttäuscht",
    "beschwerde",
    "beschweren",
    "seit wochen",
    "immer noch nicht",
    "kaputt",
    "unzumutbar",
    "unverschämt",
    "katastrophe",
    "annoyed",
    "disappointed",
    "complaint",
    "complain",
    "still not",
    "still haven't",
    "broken",
    "ridiculous",
    "unacceptable",
)
# The reply thanks or apologises.
THANKS_OR_APOLOGY = (
    "danke",
    "dank",
    "entschuldig",
    "tut uns leid",
    "tut mir leid",
    "bedauern",
    "bedaure",
    "sorry",
    "thank",
    "apolog",
)
# The mention asks to cancel a contract or subscription: that belongs to another channel.
CANCELLATION_SIGNALS = (
    "kündigung",
    "kündigen",
    "kündige",
    "vertrag beenden",
    "abo beenden",
    "cancel my contract",
    "cancel the contract",
    "cancel subscription",
    "cancel my subscription",
    "cancellation",
    "terminate",
)
# The reply points to the right channel.
RIGHT_CHANNEL_POINTERS = (
    "dm",
    "direktnachricht",
    "private nachricht",
    "privatnachricht",
    "kontaktformular",
    "hotline",
    "direct message",
    "private message",
    "contact form",
)
# The reply confirms that the request will be handled.
HANDLING_CONFIRMATIONS = (
    "kümmern uns",
    "kümmere mich",
    "wird bearbeitet",
    "erledigen",
    "erledigt",
    "take care",
    "will be handled",
    "we'll handle",
    "we will handle",
)

EMAIL_PATTERN = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}(?!\w)", re.I)
# International (+49 …, 0049 …) and German national numbers (0171 1234567, 030/123456,
# 089-12 34 56): a leading + / 00 / 0, then 6 to 15 digits with single separators.
PHONE_PATTERN = re.compile(
    r"(?<![\w+])(?:(?:\+|00)[1-9]\d{0,2}[\s./-]?(?:\(0\)[\s./-]?)?|0)"
    r"\(?\d{1,5}\)?(?:[\s/-]?\d){4,13}(?![\w])"
)
# Candidate IBANs: country code, check digits, then groups of letters/digits; the checksum
# decides (ISO 13616 mod 97).
IBAN_CANDIDATE_PATTERN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")
IBAN_MIN_LENGTH = 15  # Norway, the shortest
IBAN_MAX_LENGTH = 34


@dataclass(frozen=True)
class ReplyContext:
    """What the checks know about the reply besides its text (built by tickets.reply_context)."""

    platform: str
    visibility: str  # "public" | "private"
    language: str  # "de" | "en"
    customer_name: str
    customer_handle: str
    mention_text: str
    template_text: str | None
    length_limit: int | None
    personal_data_patterns: tuple[tuple[str, str], ...]  # (name, regular expression)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # "warning" | "strong"
    message: str


def check_reply(text: str, context: ReplyContext) -> list[Finding]:
    """Every finding of every rule for the reply `text`, in the order of RULES."""
    findings: list[Finding] = []
    for rule in RULES:
        findings.extend(rule(text, context))
    return findings


# --------------------------------------------------------------------------- helpers


def _word_start_pattern(phrase: str) -> str:
    return r"(?<!\w)" + re.escape(phrase)


def contains_any(text: str, phrases: Iterable[str]) -> bool:
    """Does any phrase occur in `text` at the start of a word (case-insensitive)?

    Two-letter abbreviations ("dm") must stand alone, so "dm" does not match "dmitri".
    """
    for phrase in phrases:
        pattern = _word_start_pattern(phrase)
        if len(phrase) <= 2:
            pattern += r"(?!\w)"
        if re.search(pattern, text, re.IGNORECASE):
            return True
    return False


def normalise_whitespace(text: str) -> str:
    return " ".join(text.split())


def first_name_of(customer_name: str) -> str:
    parts = customer_name.strip().split()
    return parts[0] if parts else ""


def is_valid_iban(candidate: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    iban = candidate.replace(" ", "").upper()
    if not (IBAN_MIN_LENGTH <= len(iban) <= IBAN_MAX_LENGTH) or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return int(digits) % 97 == 1


def find_iban(text: str) -> bool:
    """Is there a valid IBAN in `text`? A candidate may run into the following word, so every
    length from the longest down is tried against the checksum."""
    for match in IBAN_CANDIDATE_PATTERN.finditer(text):
        compact = match.group(0).replace(" ", "")
        for length in range(len(compact), IBAN_MIN_LENGTH - 1, -1):
            if is_valid_iban(compact[:length]):
                return True
    return False


def find_phone_number(text: str) -> bool:
    for match in PHONE_PATTERN.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        if 6 <= len(digits) <= 15:
            return True
    return False


# --------------------------------------------------------------------------- rules


def check_length(text: str, context: ReplyContext) -> list[Finding]:
    """Over the platform's length limit: the platform would refuse or cut the reply."""
    if context.length_limit is None or len(text) <= context.length_limit:
        return []
    over = len(text) - context.length_limit
    return [
        Finding(
            RULE_LENGTH,
            WARNING,
            _(
                "The reply is %(over)d characters too long: %(platform)s allows "
                "%(limit)d characters and the platform would refuse or cut it."
            )
            % {"over": over, "platform": context.platform, "limit": context.length_limit},
        )
    ]


def check_personal_address(text: str, context: ReplyContext) -> list[Finding]:
    """Neither the customer's first name nor the handle (with or without @) appears."""
    first_name = first_name_of(context.customer_name)
    handle = context.customer_handle.strip().lstrip("@")
    candidates = [name for name in (first_name, handle) if name]
    if not candidates:
        return []
    for name in candidates:
        if re.search(r"(?<!\w)@?" + re.escape(name), text, re.IGNORECASE):
            return []
    return [
        Finding(
            RULE_PERSONAL_ADDRESS,
            WARNING,
            _(
                "No personal address: neither the first name (%(name)s) nor the handle "
                "(@%(handle)s) appears. Address people individually, not with boilerplate."
            )
            % {"name": first_name or "-", "handle": handle or "-"},
        )
    ]


def check_template_unchanged(text: str, context: ReplyContext) -> list[Finding]:
    """The template was sent unchanged (equal after whitespace normalisation)."""
    if context.template_text is None:
        return []
    if normalise_whitespace(text) != normalise_whitespace(context.template_text):
        return []
    return [
        Finding(
            RULE_TEMPLATE_UNCHANGED,
            WARNING,
            _(
                "The template is sent unchanged. Adapt it to this person and this case: "
                "templates are a start, not the answer."
            ),
        )
    ]


def personal_data_kinds(text: str, patterns: Iterable[tuple[str, str]]) -> list[str]:
    """The kinds of personal data in `text` (e-mail address, phone number, IBAN by checksum,
    then each configured (name, pattern) that matches), in that order; empty if none. The
    one detector behind the reply check, the approval gate and the department sharing rule
    (issue 15, point 7)."""
    found: list[str] = []
    if EMAIL_PATTERN.search(text):
        found.append(_("an e-mail address"))
    if find_phone_number(text):
        found.append(_("a phone number"))
    if find_iban(text):
        found.append(_("an IBAN"))
    for name, pattern in patterns:
        try:
            if re.search(pattern, text, re.IGNORECASE):
                found.append(name)
        except re.error:
            continue  # a broken pattern in the admin must not break the composer
    return found


def check_personal_data(text: str, context: ReplyContext) -> list[Finding]:
    """Personal data in a PUBLIC reply: e-mail address, phone number, IBAN (checksum) and
    the configured order/customer number patterns. A strong warning, one per kind found."""
    if context.visibility != PUBLIC:
        return []
    found = personal_data_kinds(text, context.personal_data_patterns)
    return [
        Finding(
            RULE_PERSONAL_DATA,
            STRONG,
            _(
                "This public reply contains %(what)s. Personal data never belongs in public: "
                "ask for it and answer it in a private message."
            )
            % {"what": what},
        )
        for what in found
    ]


def check_complaint_answered_with_thanks(text: str, context: ReplyContext) -> list[Finding]:
    """The mention complains and the reply neither thanks nor apologises."""
    if not contains_any(context.mention_text, COMPLAINT_SIGNALS):
        return []
    if contains_any(text, THANKS_OR_APOLOGY):
        return []
    return [
        Finding(
            RULE_COMPLAINT,
            WARNING,
            _(
                "The customer complains, but the reply neither thanks nor apologises. "
                "Thank people for criticism."
            ),
        )
    ]


def check_wrong_channel(text: str, context: ReplyContext) -> list[Finding]:
    """A cancellation (or similar) came through a public channel: the public reply must point
    to the right channel AND confirm that the request will be handled."""
    if context.visibility != PUBLIC:
        return []
    if not contains_any(context.mention_text, CANCELLATION_SIGNALS):
        return []
    points_to_channel = contains_any(text, RIGHT_CHANNEL_POINTERS)
    confirms_handling = contains_any(text, HANDLING_CONFIRMATIONS)
    if points_to_channel and confirms_handling:
        return []
    if not points_to_channel and not confirms_handling:
        missing = _("where to send the request and that it will be handled")
    elif not points_to_channel:
        missing = _("where to send the request (direct message, contact form, hotline)")
    else:
        missing = _("that the request will be handled")
    return [
        Finding(
            RULE_WRONG_CHANNEL,
            WARNING,
            _(
                "This request (e.g. a contract cancellation) came through the wrong channel. "
                "The reply should say %(missing)s."
            )
            % {"missing": missing},
        )
    ]


RULES: tuple[Callable[[str, ReplyContext], list[Finding]], ...] = (
    check_personal_data,
    check_length,
    check_personal_address,
    check_template_unchanged,
    check_complaint_answered_with_thanks,
    check_wrong_channel,
)
