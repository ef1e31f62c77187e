"""The groups of DESIGN §1 and their model permissions, so an install without demo data
has them. Role rules themselves are code (servicedesk/roles.py); these permissions decide
what each group may see and change in the Django admin and similar tools."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

READ = "view"
STAFF_PERMISSIONS = [
    ("tickets", READ, "ticket"),
    ("tickets", READ, "ticketevent"),
    ("tickets", READ, "reply"),
    ("tickets", "add", "reply"),
    ("tickets", "add", "ticketnote"),
    ("tickets", READ, "ticketnote"),
    ("tickets", READ, "department"),
    ("tickets", READ, "topic"),
    ("tickets", READ, "slaclock"),
    ("tickets", READ, "notification"),
    ("monitoring", READ, "mention"),
    ("monitoring", READ, "channel"),
    ("crm", READ, "customer"),
    ("crm", READ, "socialidentity"),
    ("crm", READ, "consent"),
    ("crm", "add", "consent"),
    ("crm", "add", "customernote"),
    ("crm", READ, "customernote"),
    ("guidelines", READ, "replytemplate"),
]
GROUP_PERMISSIONS = {
    "community_manager": STAFF_PERMISSIONS,
    "support_agent": [*STAFF_PERMISSIONS, ("tickets", "add", "departmentrequest")],
    "team_lead": [
        *STAFF_PERMISSIONS,
        ("tickets", "add", "departmentrequest"),
        ("tickets", READ, "departmentrequest"),
        ("tickets", READ, "slapolicy"),
        ("tickets", READ, "slabreach"),
        ("tickets", "add", "topic"),
        ("tickets", "change", "topic"),
        ("guidelines", "add", "replytemplate"),
        ("guidelines", "change", "replytemplate"),
        ("crm", "change", "customer"),
    ],
    "department_expert": [
        ("tickets", READ, "departmentrequest"),
        ("tickets", "change", "departmentrequest"),
    ],
    "api_client": [
        ("monitoring", "add", "mention"),
        ("monitoring", READ, "mention"),
        ("tickets", READ, "ticket"),
    ],
}


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        for app_label, action, model in wanted:
            permission = Permission.objects.get(
                content_type__app_label=app_label, codename=f"{action}_{model}"
            )
            group.permissions.add(permission)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUP_PERMISSIONS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("servicedesk", "0001_create_profile"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0001_create_tickets_replies_and_sla"),
        ("monitoring", "0002_link_mentions_to_tickets"),
        ("crm", "0001_create_customers_and_identities"),
        ("guidelines", "0001_create_templates_and_guidelines"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
