"""The cold-start rules (triage/defaults.py), so a fresh install suggests from the start."""

from django.db import migrations


def install(apps, schema_editor):
    from triage import defaults

    Rule = apps.get_model("triage", "Rule")
    rows = [Rule(kind="brand", pattern=name) for name in defaults.BRANDS]
    for slug, words in defaults.DEPARTMENT_KEYWORDS.items():
        rows += [Rule(kind="department_keyword", pattern=w, department=slug) for w in words]
    rows += [Rule(kind="insult", pattern=w) for w in defaults.INSULTS]
    rows += [Rule(kind="private_data", pattern=p, label=label) for label, p in defaults.PRIVATE_DATA]
    rows += [Rule(kind="negative", pattern=w) for w in defaults.NEGATIVE]
    rows += [Rule(kind="positive", pattern=w) for w in defaults.POSITIVE]
    rows += [Rule(kind="request", pattern=w) for w in defaults.REQUESTS]
    rows += [Rule(kind="noise", pattern=w) for w in defaults.NOISE]
    rows += [Rule(kind="fake_review", pattern=w) for w in defaults.FAKE_REVIEW]
    Rule.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("triage", "0001_create_rules_and_suggestions")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
