"""The OpenAPI schema (`/api/schema/`, drf-spectacular) is complete and valid, the docs are
served without a CDN, and the whole API is fuzzed against its own schema by schemathesis:
no 5xx, and every answer (errors included) conforms to the schema. The fuzzing runs as a
superuser who is also a team lead (every endpoint reachable), as a plain team lead (the
superuser-only endpoints answer 403), and statefully: sequences of calls that follow the
links schemathesis infers between operations (a created channel read, changed, its secret
rotated; a ticket listed, then read and transitioned)."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.contrib.staticfiles import finders
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from servicedesk import roles
from servicedesk.tests.apiclient import client_for
from tickets.choices import NotificationKind
from tickets.models import Notification
from tickets.tests.factories import ChannelFactory, ReplyFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db

FUZZ_EXAMPLES = 8  # per operation: keeps the whole run well under a minute
TEAM_LEAD_FUZZ_EXAMPLES = 3  # per operation, as a plain team lead (the 403 answers)
STATEFUL_EXAMPLES = 12  # call sequences
STATEFUL_STEPS = 6  # calls per sequence at most


def test_schema_generates_without_warnings_and_validates(tmp_path: Path) -> None:
    target = tmp_path / "schema.yaml"

    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(target), stderr=StringIO()
    )

    text = target.read_text()
    for path in (
        "/api/v1/mentions/",
        "/api/v1/tickets/{id}/transitions/",
        "/api/v1/replies/{id}/approve/",
        "/api/v1/notifications/read-all/",
        "/api/v1/channels/{slug}/rotate_secret/",
    ):
        assert f"{path}:" in text


def test_schema_is_served_as_json_without_credentials() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.")


def test_docs_use_our_own_static_files_not_a_cdn() -> None:
    response = APIClient().get("/api/docs/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


# --------------------------------------------------------------------------- fuzzing


@pytest.fixture
def fuzz_user(db: Any) -> Any:
    """A superuser who is also a team lead, so that every endpoint is reachable, with some
    data for the ids the fuzzer may hit."""
    user = UserFactory(username="fuzzer", is_superuser=True, groups=[roles.TEAM_LEAD])
    ChannelFactory(slug="webhook-test")
    ticket = TicketFactory()
    ReplyFactory(ticket=ticket)
    Notification.objects.create(
        user=user, kind=NotificationKind.SLA_WARNING, text="x", created_at=ticket.opened_at
    )
    return user


def _load_schema() -> Any:
    """The schema as /api/schema/ serves it, bound to the WSGI application (no network)."""
    document = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(public=True)))
    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = get_wsgi_application()
    return loaded


schema = _load_schema()


@pytest.fixture
def keep_test_connection() -> Any:
    """Like Django's test client: a request through the real WSGI handler must not close the
    test's database connection (which holds the test transaction)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, fuzz_user: Any, keep_test_connection: Any) -> None:
    token = client_for(fuzz_user)._credentials["HTTP_AUTHORIZATION"]

    case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def plain_team_lead(fuzz_user: Any) -> Any:
    """A team lead who is no superuser, with the fuzz user's data to hit."""
    return UserFactory(username="fuzz_lead", groups=[roles.TEAM_LEAD])


@schema.parametrize()
@settings(
    max_examples=TEAM_LEAD_FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema_as_a_team_lead(
    case: Any, plain_team_lead: Any, keep_test_connection: Any
) -> None:
    token = client_for(plain_team_lead)._credentials["HTTP_AUTHORIZATION"]

    case.call_and_validate(headers={"Authorization": token}, checks=CHECKS)


def test_stateful_call_sequences_conform_to_the_schema(
    fuzz_user: Any, plain_team_lead: Any, keep_test_connection: Any
) -> None:
    state_machine = schema.as_state_machine()
    assert state_machine.bundles, "schemathesis inferred no links between the operations"
    tokens = [
        client_for(user)._credentials["HTTP_AUTHORIZATION"] for user in (fuzz_user, plain_team_lead)
    ]

    for token in tokens:

        class Workflow(state_machine):  # type: ignore[misc, valid-type]
            authorization = token

            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"headers": {"Authorization": self.authorization}}

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                case.validate_response(response, checks=CHECKS)

        run_state_machine_as_test(
            Workflow,
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            ),
        )
