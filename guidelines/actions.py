"""Every write of the guidelines app: installing the default content, editing the
guidelines page. Templates and personal-data patterns are otherwise edited in the admin."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guidelines.defaults import (
    DEFAULT_GUIDELINES,
    DEFAULT_PERSONAL_DATA_PATTERNS,
    DEFAULT_TEMPLATES,
)
from guidelines.models import GuidelinePage, PersonalDataPattern, ReplyTemplate
from servicedesk import roles
from servicedesk.errors import InvalidArgument, NotAllowedForRole


@transaction.atomic
def install_default_templates() -> int:
    """Create the default reply templates (de and en), guidelines pages and personal-data
    patterns of guidelines.defaults that are missing. Idempotent: an existing row (by
    template key and language, page language, pattern name) is never overwritten, so edits
    made in the admin survive. Returns the number of rows created."""
    now = timezone.now()
    created = 0
    for key, kind, texts in DEFAULT_TEMPLATES:
        for language, (name, text) in texts.items():
            _template, was_created = ReplyTemplate.objects.get_or_create(
                key=key, language=language, defaults={"name": name, "kind": kind, "text": text}
            )
            created += was_created
    for language, body in DEFAULT_GUIDELINES.items():
        _page, was_created = GuidelinePage.objects.get_or_create(
            language=language, defaults={"body": body, "updated_at": now}
        )
        created += was_created
    for name, pattern in DEFAULT_PERSONAL_DATA_PATTERNS:
        if not PersonalDataPattern.objects.filter(name=name).exists():
            PersonalDataPattern.objects.create(name=name, pattern=pattern)
            created += 1
    return created


@transaction.atomic
def update_guideline_page(language: str, body: str, *, actor: Any) -> GuidelinePage:
    """Replace the guidelines page of `language` (created if missing).

    Refuses NotAllowedForRole (anyone but team leads and superusers) and InvalidArgument
    (an unknown language, an empty text). Records who changed it and when.
    """
    if not (roles.is_team_lead(actor) or getattr(actor, "is_superuser", False)):
        raise NotAllowedForRole(_("Only team leads edit the guidelines."))
    if language not in dict(settings.LANGUAGES):
        raise InvalidArgument(_("Unknown language."), field="language")
    body = (body or "").strip()
    if not body:
        raise InvalidArgument(_("This field is required."), field="body")
    now = timezone.now()
    page = GuidelinePage.objects.select_for_update().filter(language=language).first()
    if page is None:
        return GuidelinePage.objects.create(
            language=language, body=body, updated_at=now, updated_by=actor
        )
    page.body = body
    page.updated_at = now
    page.updated_by = actor
    page.save(update_fields=["body", "updated_at", "updated_by"])
    return page
