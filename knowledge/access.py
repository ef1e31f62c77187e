"""Who may read, write, propose and review articles: one place for the pages, the API and the
actions alike.

An article names its owner department by the department's slug (`Article.department`;
empty: the whole desk, owned by the team leads). The knowledge app knows no departments
itself: the caller passes the slugs of the departments the person belongs to
(`departments=`, from tickets.access.knowledge_departments), and these predicates decide.

- Team leads and superusers write every article (`writes_every_article`).
- A department expert writes only the articles of his departments.
- CMs and agents read and propose changes; so may experts for other departments' articles.
- A proposal is reviewed by those who may write the article it goes to, never its author.
"""

from dataclasses import dataclass
from typing import Any

from knowledge.choices import DESK_WIDE, ArticleStatus
from servicedesk import roles


@dataclass(frozen=True)
class Departments:
    """What the caller knows about departments: every slug that exists (`known`, with its
    name) and the slugs of the person's own departments (`own`)."""

    known: dict[str, str]
    own: frozenset[str]

    def name_of(self, slug: str) -> str:
        return self.known.get(slug, slug)


def may_read_articles(user: Any) -> bool:
    """Desk staff, department experts, api clients (reading) and superusers."""
    if user is None or not user.is_authenticated:
        return False
    return bool(
        user.is_superuser
        or roles.is_desk_staff(user)
        or roles.is_department_expert(user)
        or roles.is_api_client(user)
    )


def writes_every_article(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False) or roles.is_team_lead(user))


def may_write(user: Any, department: str, *, departments: frozenset[str]) -> bool:
    """May `user` write (create, edit, publish, archive) an article owned by `department`?"""
    if writes_every_article(user):
        return True
    return (
        roles.is_department_expert(user) and department != DESK_WIDE and department in departments
    )


def is_writer(user: Any, *, departments: frozenset[str]) -> bool:
    """Does `user` write any article at all (team lead, or expert with a department)?"""
    return writes_every_article(user) or (roles.is_department_expert(user) and bool(departments))


def may_propose(user: Any) -> bool:
    """Human desk staff and experts propose changes (machine accounts never do)."""
    if user is None or not user.is_authenticated or roles.is_api_client(user):
        return False
    return bool(roles.is_desk_staff(user) or roles.is_department_expert(user) or user.is_superuser)


def may_see_unpublished(user: Any, department: str, *, departments: frozenset[str]) -> bool:
    """Drafts and archived articles are seen by those who may write them."""
    return may_write(user, department, departments=departments)


def may_see(user: Any, article: Any, *, departments: frozenset[str]) -> bool:
    if not may_read_articles(user):
        return False
    if article.status == ArticleStatus.PUBLISHED:
        return True
    return may_see_unpublished(user, article.department, departments=departments)


def may_review(user: Any, proposal: Any, *, departments: frozenset[str]) -> bool:
    """The owner department (those who may write the article) reviews; not the proposer."""
    return proposal.proposed_by_id != user.pk and may_write(
        user, proposal.department, departments=departments
    )
