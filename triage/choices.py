"""The values of the triage heads (labelling guide: ../shared/data/README.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Route(models.TextChoices):
    CM = "cm", _("Community Manager")
    SUPPORT = "support", _("SoMe Support")
    NONE = "none", _("No reply needed")


class Tonality(models.TextChoices):
    NEGATIVE = "negative", _("negative")
    NEUTRAL = "neutral", _("neutral")
    POSITIVE = "positive", _("positive")


class RuleKind(models.TextChoices):
    BRAND = "brand", _("Brand name")
    DEPARTMENT_KEYWORD = "department_keyword", _("Department keyword")
    INSULT = "insult", _("Insult")
    PRIVATE_DATA = "private_data", _("Personal data pattern (regular expression)")
    NEGATIVE = "negative", _("Negative word")
    POSITIVE = "positive", _("Positive word")
    REQUEST = "request", _("Request or problem word")
    NOISE = "noise", _("Not service-relevant (ads, news, spam)")
    FAKE_REVIEW = "fake_review", _("Fake-review indicator")
    # Burst detection's own words (triage.burst_text adds them to its built-in lists): one
    # word each; "shown as" names what it means (blank: the word itself).
    INCIDENT_TERM = "incident_term", _("Incident word (shown as: its concept, e.g. outage)")
    INCIDENT_SUBJECT = "incident_subject", _("Product or service of an incident")
    INCIDENT_PLACE = "incident_place", _("Place of an incident (shown as: its name)")


INCIDENT_RULE_KINDS = (RuleKind.INCIDENT_TERM, RuleKind.INCIDENT_SUBJECT, RuleKind.INCIDENT_PLACE)


RULES_MODEL = "rules-v1"  # the model name of a suggestion made by the rules alone


class LabelSource(models.TextChoices):
    """Where a label comes from; a correction outweighs a label inferred from the workflow."""

    CORRECTION = "correction", _("Correction of the suggestion")
    ASSIGN = "assign", _("Assigned to support")
    DISMISS = "dismiss", _("Dismissed")
    ANSWER = "answer", _("Answered by the CM")
    DEPARTMENT = "department", _("Department request")


HEADS = ("relevant", "route", "department", "tonality", "abusive")
