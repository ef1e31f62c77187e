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
