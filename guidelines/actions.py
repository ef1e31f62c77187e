"""Every write of the guidelines app: installing the default content. Templates and
personal-data patterns are otherwise edited in the admin; the social media guidelines are
articles of the information centre (knowledge.actions.install_guideline_articles)."""

from django.db import transaction

from guidelines.defaults import DEFAULT_PERSONAL_DATA_PATTERNS, DEFAULT_TEMPLATES
from guidelines.models import PersonalDataPattern, ReplyTemplate


@transaction.atomic
def install_default_templates() -> int:
    """Create the default reply templates (de and en) and personal-data patterns of
    guidelines.defaults that are missing. Idempotent: an existing row (by template key and
    language, pattern name) is never overwritten, so edits made in the admin survive.
    Returns the number of rows created."""
    created = 0
    for key, kind, texts in DEFAULT_TEMPLATES:
        for language, (name, text) in texts.items():
            _template, was_created = ReplyTemplate.objects.get_or_create(
                key=key, language=language, defaults={"name": name, "kind": kind, "text": text}
            )
            created += was_created
    for name, pattern in DEFAULT_PERSONAL_DATA_PATTERNS:
        if not PersonalDataPattern.objects.filter(name=name).exists():
            PersonalDataPattern.objects.create(name=name, pattern=pattern)
            created += 1
    return created
