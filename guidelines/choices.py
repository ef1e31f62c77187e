"""Enumerations of the guidelines app: the kinds of reply a template is written for.

The workflow uses the same kinds for its replies (tickets.choices re-exports ReplyKind)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReplyKind(models.TextChoices):
    ANSWER = "answer", _("Answer")
    HOLDING = "holding", _("Holding message")
    ASK_PRIVATE = "ask_private", _("Ask for a direct message")
    MODERATION = "moderation", _("Moderation")
