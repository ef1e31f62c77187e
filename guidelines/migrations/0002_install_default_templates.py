"""The default reply templates (de, en), guidelines pages and personal-data patterns, so a
production install without demo data has them. Creates only what is missing; never
overwrites a row edited in the admin (the same rule as guidelines.actions)."""

from django.db import migrations
from django.utils import timezone

from guidelines.defaults import (
    DEFAULT_GUIDELINES,
    DEFAULT_PERSONAL_DATA_PATTERNS,
    DEFAULT_TEMPLATES,
)


def install_defaults(apps, schema_editor):
    ReplyTemplate = apps.get_model("guidelines", "ReplyTemplate")
    GuidelinePage = apps.get_model("guidelines", "GuidelinePage")
    PersonalDataPattern = apps.get_model("guidelines", "PersonalDataPattern")
    now = timezone.now()
    for key, kind, texts in DEFAULT_TEMPLATES:
        for language, (name, text) in texts.items():
            ReplyTemplate.objects.get_or_create(
                key=key, language=language, defaults={"name": name, "kind": str(kind), "text": text}
            )
    for language, body in DEFAULT_GUIDELINES.items():
        GuidelinePage.objects.get_or_create(
            language=language, defaults={"body": body, "updated_at": now}
        )
    for name, pattern in DEFAULT_PERSONAL_DATA_PATTERNS:
        if not PersonalDataPattern.objects.filter(name=name).exists():
            PersonalDataPattern.objects.create(name=name, pattern=pattern)


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0001_create_templates_and_guidelines")]

    operations = [migrations.RunPython(install_defaults, migrations.RunPython.noop)]
