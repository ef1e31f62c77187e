"""The default SLA policies of DESIGN §4 (editable afterwards by superusers)."""

from django.db import migrations

DEFAULTS = {
    "first_response": 10 * 60,
    "engagement": 24 * 60 * 60,
    "next_response": 10 * 60,
    "department_feedback": 48 * 60 * 60,
}


def create_policies(apps, schema_editor):
    SlaPolicy = apps.get_model("tickets", "SlaPolicy")
    for kind, target_seconds in DEFAULTS.items():
        SlaPolicy.objects.get_or_create(
            kind=kind,
            department=None,
            defaults={"target_seconds": target_seconds, "warn_percent": 80},
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_create_tickets_replies_and_sla")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
