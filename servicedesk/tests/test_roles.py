"""The role groups of DESIGN §1 come from a data migration: a fresh database (the test
database, migrated and never seeded) has them with their permissions."""

import pytest
from django.contrib.auth.models import Group, Permission

from servicedesk import roles

pytestmark = pytest.mark.django_db


def _codenames(group_name: str) -> set[str]:
    permissions = Permission.objects.filter(group__name=group_name).select_related("content_type")
    return {
        f"{permission.content_type.app_label}.{permission.codename}" for permission in permissions
    }


def test_the_five_role_groups_exist_after_migrate_alone() -> None:
    names = set(Group.objects.values_list("name", flat=True))

    assert names >= {
        "community_manager",
        "support_agent",
        "team_lead",
        "department_expert",
        "api_client",
    }


@pytest.mark.parametrize("group_name", roles.STAFF_GROUPS)
def test_desk_staff_groups_may_read_tickets_and_write_replies_and_notes(group_name: str) -> None:
    codenames = _codenames(group_name)

    assert {
        "tickets.view_ticket",
        "tickets.view_ticketevent",
        "tickets.view_reply",
        "tickets.add_reply",
        "tickets.add_ticketnote",
        "monitoring.view_mention",
        "crm.view_customer",
        "guidelines.view_replytemplate",
    } <= codenames


@pytest.mark.parametrize("group_name", roles.ALL_GROUPS)
def test_no_group_may_change_or_delete_lifecycle_data(group_name: str) -> None:
    lifecycle = {
        f"{app}.{action}_{model}"
        for app, model in [
            ("tickets", "ticket"),
            ("tickets", "reply"),
            ("tickets", "ticketevent"),
            ("tickets", "slaclock"),
            ("tickets", "slabreach"),
            ("monitoring", "mention"),
        ]
        for action in ("change", "delete")
    }

    assert not _codenames(group_name) & lifecycle


def test_team_leads_read_sla_policies_and_breaches_and_edit_templates() -> None:
    codenames = _codenames(roles.TEAM_LEAD)

    assert {
        "tickets.view_slapolicy",
        "tickets.view_slabreach",
        "tickets.view_departmentrequest",
        "guidelines.change_replytemplate",
    } <= codenames
    assert "tickets.change_slapolicy" not in codenames  # targets: superusers only


def test_community_managers_and_agents_may_not_read_sla_policies() -> None:
    assert "tickets.view_slapolicy" not in _codenames(roles.COMMUNITY_MANAGER)
    assert "tickets.view_slapolicy" not in _codenames(roles.SUPPORT_AGENT)


def test_department_experts_answer_requests_but_see_no_tickets_or_mentions() -> None:
    codenames = _codenames(roles.DEPARTMENT_EXPERT)

    assert {"tickets.view_departmentrequest", "tickets.change_departmentrequest"} <= codenames
    assert not codenames & {"tickets.view_ticket", "monitoring.view_mention", "crm.view_customer"}


def test_api_clients_push_mentions_and_read_tickets_but_never_write_replies() -> None:
    codenames = _codenames(roles.API_CLIENT)

    assert {"monitoring.add_mention", "monitoring.view_mention", "tickets.view_ticket"} <= codenames
    assert not {name for name in codenames if name.startswith("tickets.") and "view_" not in name}
