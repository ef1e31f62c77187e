"""Test helpers of the knowledge app: writing articles through the real action."""

from typing import Any

from knowledge import actions
from knowledge.access import Departments
from knowledge.choices import ArticleStatus
from knowledge.models import Article

DEPARTMENTS = {"technical": "Technik", "billing": "Abrechnung", "logistics": "Logistik"}


def departments(*own: str) -> Departments:
    """The desk's departments as the tickets side would pass them, with `own` the person's."""
    return Departments(known=dict(DEPARTMENTS), own=frozenset(own))


def write(actor: Any, title: str, body: str, **fields: Any) -> Article:
    """A published article written by `actor` (a team lead unless the test says otherwise)."""
    fields.setdefault("language", "de")
    fields.setdefault("status", ArticleStatus.PUBLISHED)
    own = fields.pop("own", ())
    return actions.create_article(
        actor=actor, departments=departments(*own), title=title, body=body, **fields
    )
