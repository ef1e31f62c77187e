"""What a reply on a ticket is written against: the mention it answers, its template filled
for that mention's author, and the context the guideline checks judge it in (read-only).

"The mention a reply answers" is `answered_mention`, and only it: the composer's default,
the action's default, the template's {name} and the checks all ask it, so a filled template
always names the person the reply goes to.
"""

from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from guidelines.checks import Finding, ReplyContext, check_reply, personal_data_kinds
from guidelines.models import PersonalDataPattern
from guidelines.rendering import fill_placeholders, first_name
from monitoring.choices import REPLY_LENGTH_LIMITS
from monitoring.models import Mention
from servicedesk.errors import InvalidArgument
from tickets.choices import ReplyVisibility
from tickets.models import Ticket

CHECK_LANGUAGES = ("de", "en")
UNFILLED_AGENT = "{agent}"  # without an author the placeholder stays for the author to fill


def default_answered_mention(ticket: Ticket) -> Mention | None:
    """The newest mention of the ticket's customer, else its newest mention that is not the
    channel's own post; None if it has none."""
    mentions = ticket.mentions.filter(is_own_account=False).order_by("-created_at", "-id")
    return mentions.filter(identity__customer_id=ticket.customer_id).first() or mentions.first()


def answered_mention(ticket: Ticket, mention: Mention | None = None) -> Mention:
    """The mention a reply on `ticket` answers: `mention` if given, else the default.
    InvalidArgument if the ticket has nothing to answer."""
    mention = mention or default_answered_mention(ticket)
    if mention is None:
        raise InvalidArgument(
            _("This ticket has no mention to answer."), field="in_reply_to_mention"
        )
    return mention


def _author_handle(mention: Mention | None) -> str:
    handle = mention.author_handle if mention else ""
    return handle if handle.startswith("@") or not handle else "@" + handle


def render_template_text(
    template: Any, *, ticket: Ticket, actor: Any = None, mention: Mention | None = None
) -> str:
    """The template's text with its placeholders filled for the author of the answered
    mention (`mention`, or the default one); `actor` is {agent} (kept as it is without one)."""
    mention = mention or default_answered_mention(ticket)
    display_name = mention.author_display_name if mention else ticket.customer.display_name
    handle = _author_handle(mention)
    agent = (
        (actor.get_short_name() or actor.get_username()) if actor is not None else UNFILLED_AGENT
    )
    return fill_placeholders(
        template.text,
        name=first_name(display_name, handle),
        handle=handle,
        agent=agent,
        ticket=str(ticket.pk),
    )


def current_check_language() -> str:
    """The active interface language reduced to one the checks speak (German by default)."""
    language = (translation.get_language() or "de")[:2].lower()
    return language if language in CHECK_LANGUAGES else "de"


def build_reply_context(
    ticket: Ticket,
    *,
    visibility: str,
    mention: Mention | None = None,
    template: Any = None,
    actor: Any = None,
) -> ReplyContext:
    """What the checks need to judge a reply on `ticket`: the answered mention, its author's
    name and handle, the platform's public length limit, the template's text filled for this
    reply (with `actor` as {agent}) and the active personal-data patterns."""
    mention = mention or default_answered_mention(ticket)
    platform = ticket.channel.platform
    template_text = None
    if template is not None:
        template_text = render_template_text(template, ticket=ticket, actor=actor, mention=mention)
    return ReplyContext(
        platform=platform,
        visibility=visibility,
        language=current_check_language(),
        customer_name=(mention.author_display_name if mention else "")
        or ticket.customer.display_name,
        customer_handle=mention.author_handle if mention else "",
        mention_text=mention.text if mention else "",
        template_text=template_text,
        length_limit=REPLY_LENGTH_LIMITS.get(platform)
        if visibility == ReplyVisibility.PUBLIC
        else None,
        personal_data_patterns=active_personal_data_patterns(),
    )


def active_personal_data_patterns() -> tuple[tuple[str, str], ...]:
    """The (name, pattern) pairs of the active personal-data patterns (admin-editable)."""
    return tuple(
        PersonalDataPattern.objects.filter(is_active=True)
        .order_by("name")
        .values_list("name", "pattern")
    )


def personal_data_in(text: str, patterns: tuple[tuple[str, str], ...] | None = None) -> list[str]:
    """The kinds of personal data the guideline checks find in `text` (issue 15, point 7)."""
    if patterns is None:
        patterns = active_personal_data_patterns()
    return personal_data_kinds(text, patterns)


def public_reply_personal_data(reply: Any) -> list[str]:
    """The personal data in a PUBLIC reply's text; empty for a private reply."""
    if reply.visibility != ReplyVisibility.PUBLIC:
        return []
    return personal_data_in(reply.text)


def guideline_findings(
    ticket: Ticket,
    text: str,
    *,
    visibility: str,
    mention: Mention | None = None,
    template: Any = None,
    actor: Any = None,
) -> list[Finding]:
    """The guideline checks on a draft (empty text: nothing to check)."""
    if not text.strip():
        return []
    context = build_reply_context(
        ticket, visibility=visibility, mention=mention, template=template, actor=actor
    )
    return check_reply(text, context)
