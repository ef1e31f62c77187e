"""Issue 18, point 7: strict input types everywhere in the API. A JSON value of the wrong type
is a 400 with an error for that field, never coerced (DRF alone would store 12 as "12", take
"yes" or 1 as true and "12" as 12).

The table is the OpenAPI schema itself: every property of every JSON request body (nested
objects one level down, every transition's arguments) gets a value of each wrong type, so an
endpoint or field added later is covered without touching this file."""

from collections.abc import Iterator
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from servicedesk import roles
from servicedesk.api_input import serializer_type_errors
from servicedesk.tests.apiclient import assert_error, client_for
from tickets.actions.incidents import open_incident
from tickets.api.serializers import TRANSITION_INPUTS, ReplyInput
from tickets.models import SlaPolicy
from tickets.tests.factories import (
    ChannelFactory,
    MentionFactory,
    ReplyFactory,
    TicketFactory,
    UserFactory,
)
from tickets.tests.knowledge_data import write_library

pytestmark = pytest.mark.django_db

# A value of every other JSON type, per expected type (bool before int: 1 is not true).
WRONG_VALUES: dict[str, list[Any]] = {
    "string": [12345, True],
    "integer": ["12", True],
    "number": ["1.5"],
    "boolean": ["yes", 1],
    "array": ["x"],
    "object": ["x"],
}


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(public=True)


SCHEMA = _schema()
COMPONENTS = SCHEMA["components"]["schemas"]


def resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = COMPONENTS[node["$ref"].rsplit("/", 1)[1]]
    return node


def json_type(node: dict[str, Any]) -> str | None:
    node = resolve(node)
    if "enum" in node:
        return "string" if all(isinstance(value, str) for value in node["enum"]) else None
    if "oneOf" in node:
        kinds = {json_type(option) for option in node["oneOf"]}
        return kinds.pop() if len(kinds) == 1 else None
    return node.get("type")


def body_properties(node: dict[str, Any]) -> dict[str, Any]:
    node = resolve(node)
    if "oneOf" in node:  # the mentions endpoint: one object or an array of them
        node = resolve(next(option for option in node["oneOf"] if "$ref" in option))
    return {
        name: prop for name, prop in node.get("properties", {}).items() if not prop.get("readOnly")
    }


def cases() -> Iterator[Any]:
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            for name, prop in body_properties(content["application/json"]["schema"]).items():
                kind = json_type(prop)
                nested = body_properties(prop) if kind == "object" else {}
                for wrong in WRONG_VALUES.get(kind or "", []):
                    yield pytest.param(
                        method, path, [name], wrong, id=f"{method} {path} {name}={wrong!r}"
                    )
                for inner, inner_prop in nested.items():
                    for wrong in WRONG_VALUES.get(json_type(inner_prop) or "", [])[:2]:
                        yield pytest.param(
                            method,
                            path,
                            [name, inner],
                            wrong,
                            id=f"{method} {path} {name}.{inner}={wrong!r}",
                        )


def transition_for(field: str) -> str:
    """A transition whose arguments include `field` (its input is validated after the name)."""
    if field in ("transition", "expected_state"):
        return "take"
    for name, input_class in TRANSITION_INPUTS.items():
        if field in input_class().fields:
            return name
    raise AssertionError(f"no transition takes {field}")


@pytest.fixture
def objects(db: Any) -> dict[str, str]:
    user = UserFactory(
        username="strict", is_superuser=True, is_staff=True, groups=[roles.TEAM_LEAD]
    )
    ChannelFactory(slug="bridge")
    ticket = TicketFactory()
    reply = ReplyFactory(ticket=ticket)
    article = write_library(user)["bike"]
    return {
        "user": user,
        "{id}:tickets": str(ticket.pk),
        "{id}:replies": str(reply.pk),
        "{id}:policies": str(SlaPolicy.objects.first().pk),
        "{id}:customers": str(ticket.customer_id),
        "{id}:articles": str(article.pk),
        "{id}:mentions": str(MentionFactory().pk),
        "{slug}": "bridge",
        "{id}:users": str(user.pk),
        "{id}:incidents": str(open_incident(actor=user, title="Störung").pk),
    }


def concrete(path: str, objects: dict[str, Any]) -> str:
    if "{slug}" in path:
        return path.replace("{slug}", objects["{slug}"])
    areas = ("tickets", "replies", "policies", "articles", "users", "mentions", "customers")
    for area in (*areas, "incidents"):
        if f"/{area}/{{id}}/" in path:
            return path.replace("{id}", objects[f"{{id}}:{area}"])
    return path


@pytest.mark.parametrize(("method", "path", "field_path", "wrong"), list(cases()))
def test_a_value_of_the_wrong_json_type_is_a_400_for_that_field(
    objects: dict[str, Any], method: str, path: str, field_path: list[str], wrong: Any
) -> None:
    value: Any = wrong
    for name in reversed(field_path[1:]):
        value = {name: value}
    body: dict[str, Any] = {field_path[0]: value}
    if path.endswith("/transitions/") and field_path[0] != "transition":
        body = {"transition": transition_for(field_path[0]), **body}

    response = getattr(client_for(objects["user"]), method)(
        concrete(path, objects), body, format="json"
    )

    errors = assert_error(response, 400)["errors"]
    for name in field_path:
        assert name in errors, (field_path, errors)
        errors = errors[name]


def test_the_schema_table_covers_every_body() -> None:
    covered = {(case.values[0], case.values[1]) for case in cases()}

    assert ("post", "/api/v1/mentions/") in covered
    assert ("post", "/api/v1/tickets/{id}/transitions/") in covered
    assert ("patch", "/api/v1/channels/{slug}/") in covered
    assert ("patch", "/api/v1/articles/{id}/") in covered
    assert ("post", "/api/v1/presence/") in covered
    assert ("patch", "/api/v1/routing/") in covered
    assert ("patch", "/api/v1/users/{id}/routing/") in covered
    assert ("post", "/api/v1/mentions/{id}/triage/") in covered
    assert ("post", "/api/v1/customers/{id}/erasure/") in covered  # issue 15
    assert ("post", "/api/v1/replies/{id}/approve/") in covered  # issue 15: override_reason
    assert ("post", "/api/v1/incidents/{id}/statements/") in covered  # issue 14
    assert len(covered) == 23


def test_values_of_the_right_type_pass_the_check() -> None:
    errors = serializer_type_errors(
        ReplyInput(),
        {
            "text": "Hallo",
            "visibility": "public",
            "kind": "answer",
            "submit": True,
            "template": None,
        },
    )

    assert errors == {}
