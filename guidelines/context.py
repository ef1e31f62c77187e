"""Build the ReplyContext of the guideline checks from the database (read-only)."""

from typing import Any

from django.utils import translation

from guidelines.checks import ReplyContext
from guidelines.models import PersonalDataPattern
from guidelines.rendering import fill_placeholders, first_name, render_template_for
from monitoring.choices import REPLY_LENGTH_LIMITS

CHECK_LANGUAGES = ("de", "en")
PUBLIC = "public"


def current_check_language() -> str:
    """The active interface language reduced to one the checks speak (German by default)."""
    language = (translation.get_language() or "de")[:2].lower()
    return language if language in CHECK_LANGUAGES else "de"


def build_reply_context(
    ticket: Any,
    *,
    visibility: str,
    mention: Any = None,
    template: Any = None,
    actor: Any = None,
) -> ReplyContext:
    """What the checks need to judge a reply on `ticket`: the answered mention (by default the
    newest mention of the ticket's customer), the customer's name and handle, the platform's
    public length limit, the template's text filled for this ticket (with `actor` as
    {agent}; without an actor {agent} stays as it is) and the active personal-data patterns.
    """
    if mention is None:
        mentions = ticket.mentions.filter(is_own_account=False).order_by("-created_at", "-id")
        mention = (
            mentions.filter(identity__customer_id=ticket.customer_id).first() or mentions.first()
        )
    platform = ticket.channel.platform
    template_text = None
    if template is not None:
        if actor is not None:
            template_text = render_template_for(template, ticket=ticket, actor=actor)
        else:
            handle = mention.author_handle if mention else ""
            handle = handle if handle.startswith("@") or not handle else "@" + handle
            display_name = mention.author_display_name if mention else ""
            template_text = fill_placeholders(
                template.text,
                name=first_name(display_name or ticket.customer.display_name, handle),
                handle=handle,
                agent="{agent}",
                ticket=str(ticket.pk),
            )
    return ReplyContext(
        platform=platform,
        visibility=visibility,
        language=current_check_language(),
        customer_name=(mention.author_display_name if mention else "")
        or ticket.customer.display_name,
        customer_handle=mention.author_handle if mention else "",
        mention_text=mention.text if mention else "",
        template_text=template_text,
        length_limit=REPLY_LENGTH_LIMITS.get(platform) if visibility == PUBLIC else None,
        personal_data_patterns=tuple(
            PersonalDataPattern.objects.filter(is_active=True)
            .order_by("name")
            .values_list("name", "pattern")
        ),
    )
