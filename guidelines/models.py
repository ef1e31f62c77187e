"""Reply templates (Textbausteine) and configurable personal-data patterns. The staff's social
media guidelines are articles of the information centre (knowledge, tagged `guidelines`)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guidelines.choices import ReplyKind


class ReplyTemplateQuerySet(models.QuerySet["ReplyTemplate"]):
    def active(self) -> "ReplyTemplateQuerySet":
        return self.filter(is_active=True)


class ReplyTemplate(models.Model):
    """A reply template in one language. Placeholders: {name}, {handle}, {agent}, {ticket}."""

    key = models.SlugField(_("key"), max_length=64)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    name = models.CharField(_("name"), max_length=255)
    kind = models.CharField(_("reply kind"), max_length=16, choices=ReplyKind.choices)
    text = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReplyTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["key", "language"]
        constraints = [
            models.UniqueConstraint(fields=["key", "language"], name="replytemplate_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class PersonalDataPattern(models.Model):
    """A regular expression for personal data (order or customer numbers) that must not
    appear in a public reply; the guideline check warns strongly when one matches."""

    name = models.CharField(_("name"), max_length=255)
    pattern = models.CharField(_("regular expression"), max_length=500)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("personal data pattern")
        verbose_name_plural = _("personal data patterns")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(is_active=True), name="pdpattern_unique_active"
            )
        ]

    def __str__(self) -> str:
        return self.name
