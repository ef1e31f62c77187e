"""The privacy officer group (Datenschutz) with what it reads in the admin, and the default
retention policies (issue 15). Role rules themselves are code (privacy/access.py)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "privacy_officer"
PERMISSIONS = [
    ("privacy", "view", "erasurerequest"),
    ("privacy", "add", "erasurerequest"),
    ("privacy", "view", "accesslog"),
    ("privacy", "view", "retentionpolicy"),
    ("crm", "view", "customer"),
    ("crm", "view", "socialidentity"),
    ("crm", "view", "consent"),
]
# kind → days kept (a superuser edits them in the admin).
RETENTION_DEFAULTS = {"closed_tickets": 730, "dismissed_spam": 30, "access_audit": 3 * 365}


def create_group(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name=GROUP)
    for app_label, action, model in PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
        )
    RetentionPolicy = apps.get_model("privacy", "RetentionPolicy")
    for kind, days in RETENTION_DEFAULTS.items():
        RetentionPolicy.objects.get_or_create(kind=kind, defaults={"keep_days": days})


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_create_privacy"),
        ("servicedesk", "0002_create_role_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
