"""Enumerations of the knowledge app and their named groups."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class InsertionMode(models.TextChoices):
    """What one click put into a reply draft."""

    LINK = "link", _("Link")
    QUOTE = "quote", _("Quoted passage")
    ANSWER = "answer", _("Past answer")


# The languages an article is written in, and the PostgreSQL text-search configuration that
# stems its words (the query is stemmed with the same one).
ARTICLE_LANGUAGES = (("de", _("German")), ("en", _("English")))
SEARCH_CONFIGS: dict[str, str] = {"de": "german", "en": "english"}

# An article without an owner department belongs to the whole desk: the team leads own it
# (the social media guidelines are such articles).
DESK_WIDE = ""

# The tag of the staff's social media guidelines: /guidelines/ shows these articles.
GUIDELINES_TAG = "guidelines"
