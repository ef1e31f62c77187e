"""Enumerations of the crm app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsentPurpose(models.TextChoices):
    PRIVATE_CONTACT = "private_contact", _("Contact through a private channel")
    DATA_PROCESSING = "data_processing", _("Processing of personal data for this case")
    MARKETING = "marketing", _("Marketing")


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", _("Granted")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class BlockScope(models.TextChoices):
    """Where an abusive author is blocked (issue 17): on the platform, or on the desk only
    where the platform cannot block (marked, and their posts filtered)."""

    PLATFORM = "platform", _("Blocked on the platform")
    DESK = "desk", _("Blocked on the desk")
