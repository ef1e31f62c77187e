"""Shared fixtures: the personas every test uses, and the factories as fixtures."""

import importlib
from typing import Any

import pytest
from django.apps import apps as django_apps

from servicedesk import roles
from tickets.tests import factories


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Hashing with PBKDF2 costs ~0.3 s per user; tests need no strong hashes."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _second_factor_optional(settings: Any) -> None:
    """The personas sign in with their password (force_login, the login form); the rule that
    superusers and team leads need a second factor is tested on its own
    (servicedesk/tests/test_two_factor.py sets TWO_FACTOR_REQUIRED back on)."""
    settings.TWO_FACTOR_REQUIRED = False


@pytest.fixture(autouse=True)
def _english_unless_asked(settings: Any) -> Any:
    """Tests assert on the English source strings; the German default is tested on its own
    (servicedesk/tests/test_i18n.py sets LANGUAGE_CODE back to "de")."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_lookup_caches(settings: Any) -> Any:
    """Each test rolls its rows back: the per-process lookup caches (channels, SLA policies,
    rules, groups) must not carry one test's rows into the next. A test runs in one process,
    so no other process's changes are compared (servicedesk/tests/test_lookups.py does)."""
    from servicedesk import lookups

    settings.LOOKUP_CHECK_SECONDS = 3600
    lookups.clear_all()
    yield
    lookups.clear_all()


@pytest.fixture(autouse=True)
def _reference_data(request: Any) -> None:
    """Groups and default SLA policies come from data migrations; a transactional test's
    flush removes them, so restore them for every database test that follows."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from django.contrib.auth.models import Group, Permission

    from tickets.models import SlaPolicy

    roles_migration = importlib.import_module("servicedesk.migrations.0002_create_role_groups")
    policies_migration = importlib.import_module(
        "tickets.migrations.0002_create_default_sla_policies"
    )
    if Group.objects.count() < len(roles_migration.GROUP_PERMISSIONS):
        for name, wanted in roles_migration.GROUP_PERMISSIONS.items():
            group, _created = Group.objects.get_or_create(name=name)
            for app_label, action, model in wanted:
                group.permissions.add(
                    Permission.objects.get(
                        content_type__app_label=app_label, codename=f"{action}_{model}"
                    )
                )
    if not Group.objects.filter(name=roles.PRIVACY_OFFICER).exists():
        privacy_migration = importlib.import_module("privacy.migrations.0002_privacy_officer_group")
        group = Group.objects.create(name=roles.PRIVACY_OFFICER)
        for app_label, action, model in privacy_migration.PERMISSIONS:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label=app_label, codename=f"{action}_{model}"
                )
            )
    if not SlaPolicy.objects.exists():
        for kind, target_seconds in policies_migration.DEFAULTS.items():
            SlaPolicy.objects.create(kind=kind, target_seconds=target_seconds, warn_percent=80)
    from triage.models import Rule

    if not Rule.objects.exists():
        importlib.import_module("triage.migrations.0002_default_rules").install(django_apps, None)


def _persona(username: str, *groups: str, **fields: Any) -> Any:
    return factories.UserFactory(username=username, groups=list(groups), **fields)


@pytest.fixture
def cm(db: Any) -> Any:
    return _persona("cm", roles.COMMUNITY_MANAGER, first_name="Clara")


@pytest.fixture
def agent(db: Any) -> Any:
    return _persona("agent", roles.SUPPORT_AGENT, first_name="Anton")


@pytest.fixture
def other_agent(db: Any) -> Any:
    return _persona("other_agent", roles.SUPPORT_AGENT, first_name="Olga")


@pytest.fixture
def team_lead(db: Any) -> Any:
    return _persona("team_lead", roles.TEAM_LEAD, first_name="Tina")


@pytest.fixture
def privacy_officer(db: Any) -> Any:
    return _persona("pia", roles.PRIVACY_OFFICER)


@pytest.fixture
def department(db: Any) -> Any:
    return factories.DepartmentFactory(slug="technical", name="Technik")


@pytest.fixture
def other_department(db: Any) -> Any:
    return factories.DepartmentFactory(slug="billing", name="Abrechnung")


@pytest.fixture
def expert(department: Any) -> Any:
    user = _persona("expert", roles.DEPARTMENT_EXPERT, first_name="Erik")
    department.experts.add(user)
    return user


@pytest.fixture
def other_expert(other_department: Any) -> Any:
    user = _persona("other_expert", roles.DEPARTMENT_EXPERT, first_name="Ole")
    other_department.experts.add(user)
    return user


@pytest.fixture
def api_client_user(db: Any) -> Any:
    return _persona("api_client", roles.API_CLIENT)


@pytest.fixture
def channel(db: Any) -> Any:
    return factories.ChannelFactory(slug="webhook-test", own_accounts=["desk_hilft"])


@pytest.fixture
def ticket_factory(db: Any) -> Any:
    return factories.TicketFactory


@pytest.fixture
def mention_factory(db: Any) -> Any:
    return factories.MentionFactory


@pytest.fixture
def reply_factory(db: Any) -> Any:
    return factories.ReplyFactory


@pytest.fixture
def sla_clock_factory(db: Any) -> Any:
    return factories.SlaClockFactory


@pytest.fixture
def user_factory(db: Any) -> Any:
    return factories.UserFactory


@pytest.fixture
def channel_factory(db: Any) -> Any:
    return factories.ChannelFactory


@pytest.fixture
def celery_worker(transactional_db: Any, settings: Any) -> Any:
    """A real Celery worker (in a thread, solo pool) consuming from the real Redis broker of
    REDIS_URL, against the test database. Tests using it see only committed rows, so they
    run with `transactional_db`. Yields the worker; stopped (and the queue purged) after."""
    from celery.contrib.testing.worker import start_worker

    from servicedesk.celery import app

    app.control.purge()
    with start_worker(
        app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"
    ) as worker:
        yield worker
    app.control.purge()
