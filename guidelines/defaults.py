"""The desk's default content: reply templates in German and English, the social media
guidelines (installed as articles by knowledge.actions.install_guideline_articles), and
the personal-data patterns of the guideline checks.

Data only. `guidelines.actions.install_default_templates()` and the data migration
0002_install_default_templates create what is missing and never overwrite edited rows.
Placeholders in template texts: {name} (the customer's first name), {handle} (with @),
{agent} (the author's first name).
"""

from guidelines.choices import ReplyKind

# key, kind, {language: (name, text)}
DEFAULT_TEMPLATES: tuple[tuple[str, str, dict[str, tuple[str, str]]], ...] = (
    (
        "answer-opener",
        ReplyKind.ANSWER,
        {
            "de": (
                "Antwort: Einstieg",
                "Hallo {name}, danke, dass du dich bei uns meldest! ",
            ),
            "en": (
                "Answer: opener",
                "Hi {name}, thanks for getting in touch! ",
            ),
        },
    ),
    (
        "holding",
        ReplyKind.HOLDING,
        {
            "de": (
                "Zwischenbescheid",
                "Hallo {name}, danke für deine Nachricht! Wir schauen uns das gerade genau an "
                "und melden uns so schnell wie möglich wieder bei dir. Viele Grüße, {agent}",
            ),
            "en": (
                "Holding message",
                "Hi {name}, thanks for your message! We're looking into this right now and "
                "will get back to you as soon as we can. Best, {agent}",
            ),
        },
    ),
    (
        "ask-direct-message",
        ReplyKind.ASK_PRIVATE,
        {
            "de": (
                "Bitte um Direktnachricht",
                "Hallo {name}, das schauen wir uns gern für dich an. Damit deine Daten nicht "
                "öffentlich stehen: Schick uns bitte eine Direktnachricht mit deiner "
                "Bestell- oder Kundennummer, dann kümmern wir uns sofort darum. "
                "Viele Grüße, {agent}",
            ),
            "en": (
                "Ask for a direct message",
                "Hi {name}, we're happy to look into this for you. So that your details stay "
                "private, please send us a direct message with your order or customer number "
                "and we'll take care of it right away. Best, {agent}",
            ),
        },
    ),
    (
        "thanks-for-criticism",
        ReplyKind.ANSWER,
        {
            "de": (
                "Danke für die Kritik",
                "Hallo {name}, danke, dass du uns das so offen schreibst, und entschuldige "
                "bitte den Ärger! Dein Hinweis hilft uns, besser zu werden. Wir geben ihn an "
                "das zuständige Team weiter. Viele Grüße, {agent}",
            ),
            "en": (
                "Thanks for the criticism",
                "Hi {name}, thank you for telling us so openly, and sorry for the trouble! "
                "Your feedback helps us get better, and we're passing it on to the team in "
                "charge. Best, {agent}",
            ),
        },
    ),
    (
        "wrong-channel",
        ReplyKind.ANSWER,
        {
            "de": (
                "Falscher Kanal (z. B. Kündigung)",
                "Hallo {name}, danke für deine Nachricht. Eine Kündigung können wir hier "
                "leider nicht entgegennehmen, weil wir dafür deine Vertragsdaten brauchen. "
                "Schick sie uns bitte per Direktnachricht oder über unser Kontaktformular: "
                "Wir kümmern uns darum, dass sie bearbeitet wird, und bestätigen sie dir. "
                "Viele Grüße, {agent}",
            ),
            "en": (
                "Wrong channel (e.g. cancellation)",
                "Hi {name}, thanks for your message. We can't take a contract cancellation "
                "here, because we need your contract details for it. Please send it to us by "
                "direct message or through our contact form: we'll take care that it is "
                "handled and confirm it to you. Best, {agent}",
            ),
        },
    ),
    (
        "netiquette-reminder",
        ReplyKind.MODERATION,
        {
            "de": (
                "Hinweis auf die Netiquette",
                "Hallo {name}, wir verstehen, dass du verärgert bist, und helfen dir gern "
                "weiter. Bitte bleib dabei aber sachlich und respektvoll, so wie es unsere "
                "Netiquette für alle hier vorsieht. Danke! {agent}",
            ),
            "en": (
                "Netiquette reminder",
                "Hi {name}, we understand that you're upset, and we're happy to help. Please "
                "keep it factual and respectful, as our netiquette asks of everyone here. "
                "Thank you! {agent}",
            ),
        },
    ),
)

# One paragraph per rule of DESIGN §2; the page shows them separated by blank lines.
_GUIDELINES_DE = (
    "Social-Media-Richtlinien für das Service-Team",
    (
        "Antworte innerhalb von 24 Stunden – auch dann, wenn kein Servicefall dahintersteckt. "
        "Servicefälle bekommen innerhalb von 10 Minuten eine erste öffentliche Antwort oder "
        "einen Zwischenbescheid."
    ),
    (
        "Wenn die Antwort noch nicht fertig ist, schreib einen Zwischenbescheid: Die Person "
        "soll sehen, dass ihr Anliegen angekommen ist und bearbeitet wird."
    ),
    (
        "Sprich Menschen persönlich an, mit Namen oder Handle. Keine PR-Floskeln: Textbausteine "
        "sind ein Anfang, passe sie immer an Person und Fall an."
    ),
    (
        "Bedanke dich für Kritik und entschuldige dich, wo etwas schiefgelaufen ist. Kritik ist "
        "ein Hinweis, kein Angriff."
    ),
    (
        "Schwierige Gespräche führst du privat weiter (Direktnachricht). Zeige aber öffentlich, "
        "dass das Problem bearbeitet wird, damit alle Mitlesenden das sehen."
    ),
    (
        "Kommt ein Anliegen über den falschen Kanal (z. B. eine Kündigung über Facebook), nenne "
        "den richtigen Weg (Direktnachricht, Kontaktformular, Hotline) und sorge dafür, dass es "
        "trotzdem bearbeitet wird."
    ),
    (
        "Ausblenden oder Blockieren ist das letzte Mittel bei hartnäckigen Störern – und erst "
        "nach einem freundlichen Hinweis auf unsere Netiquette."
    ),
    "Es gibt keine dummen Fragen: Beantworte auch einfache Fragen höflich und geduldig.",
    (
        "Vier-Augen-Prinzip: Jede öffentliche Antwort liest und gibt eine zweite Person frei, "
        "bevor sie rausgeht."
    ),
    (
        "Keine persönlichen Daten in der Öffentlichkeit: keine E-Mail-Adressen, Telefonnummern, "
        "Bankverbindungen, Bestell- oder Kundennummern in öffentlichen Antworten. Frag sie per "
        "Direktnachricht ab."
    ),
)
_GUIDELINES_EN = (
    "Social media guidelines for the service team",
    (
        "Answer within 24 hours, even when no service case is involved. Service cases get a "
        "first public answer or holding message within 10 minutes."
    ),
    (
        "When the answer is not ready yet, send a holding message: people should see that their "
        "request has arrived and is being handled."
    ),
    (
        "Address people individually, by name or handle. No PR boilerplate: templates are a "
        "start, always adapt them to the person and the case."
    ),
    (
        "Thank people for criticism and apologise where something went wrong. Criticism is a "
        "hint, not an attack."
    ),
    (
        "Take difficult conversations private (direct message), but show in public that the "
        "problem is being handled, so that everyone reading along can see it."
    ),
    (
        "When a request comes through the wrong channel (e.g. a contract cancellation via "
        "Facebook), name the right way (direct message, contact form, hotline) and make sure it "
        "is handled anyway."
    ),
    (
        "Hiding or blocking is the last resort against persistent abusers, and only after a "
        "friendly reminder of our netiquette."
    ),
    "There are no dumb questions: answer simple questions politely and patiently, too.",
    (
        "Four-eyes principle: a second person proof-reads and approves every public reply "
        "before it goes out."
    ),
    (
        "No personal data in public: no e-mail addresses, phone numbers, bank details, order or "
        "customer numbers in public replies. Ask for them by direct message."
    ),
)
DEFAULT_GUIDELINES: dict[str, str] = {
    "de": "\n\n".join(_GUIDELINES_DE) + "\n",
    "en": "\n\n".join(_GUIDELINES_EN) + "\n",
}

# (name, regular expression): order and customer numbers that must not appear in public.
DEFAULT_PERSONAL_DATA_PATTERNS: tuple[tuple[str, str], ...] = (
    ("Bestellnummer / order number", r"\bPB\d{10}DE\b"),
    (
        "Kundennummer / customer number",
        r"(?:Kundennummer|Kunden-?Nr\.?|customer (?:number|no\.?))\s*:?\s*\d{5,}",
    ),
)
