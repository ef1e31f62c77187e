"""Triage: the rules a team lead edits and one suggestion per stored mention.

Suggestions are written by triage.actions only (called by tickets.intake and the sweep).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from triage.choices import Route, RuleKind, Tonality


class Rule(models.Model):
    """One readable cold-start rule: a keyword (or, for personal-data patterns, a regular
    expression). Every match is shown as a reason on the suggestion."""

    kind = models.CharField(_("kind"), max_length=32, choices=RuleKind.choices)
    pattern = models.CharField(
        _("pattern"),
        max_length=255,
        help_text=_("A word or phrase (case-insensitive); a regular expression for personal data."),
    )
    department = models.SlugField(
        _("department"), blank=True, help_text=_("Only for department keywords.")
    )
    label = models.CharField(_("shown as"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("triage rule")
        verbose_name_plural = _("triage rules")
        ordering = ("kind", "department", "pattern")
        constraints = [
            models.UniqueConstraint(
                fields=("kind", "pattern", "department"), name="triage_rule_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.pattern}"


class Suggestion(models.Model):
    """What triage suggests for one mention; never acts by itself."""

    mention = models.OneToOneField(
        "monitoring.Mention", on_delete=models.CASCADE, related_name="triage"
    )
    relevant = models.BooleanField(_("service-relevant"))
    route = models.CharField(_("route"), max_length=16, choices=Route.choices)
    department = models.SlugField(_("department"), blank=True)
    needs_private_data = models.BooleanField(_("needs private data"))
    tonality = models.CharField(_("tonality"), max_length=16, choices=Tonality.choices)
    abusive = models.BooleanField(_("abusive"))
    fake_review = models.JSONField(_("fake review"), default=dict)
    language = models.CharField(_("language"), max_length=8)
    confidence = models.JSONField(_("confidence"), default=dict)
    reasons = models.JSONField(_("reasons"), default=list)
    model = models.CharField(_("model"), max_length=64)
    created_at = models.DateTimeField(_("suggested at"))

    class Meta:
        verbose_name = _("triage suggestion")
        verbose_name_plural = _("triage suggestions")
        indexes = [models.Index(fields=("route", "tonality"), name="triage_sugg_route_tone")]

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.route}/{self.tonality}"

    def as_api(self) -> dict:
        """The `triage` object of the mention API (issue 13 §6)."""
        return {
            "relevant": self.relevant,
            "route": self.route,
            "department": self.department or None,
            "needs_private_data": self.needs_private_data,
            "tonality": self.tonality,
            "abusive": self.abusive,
            "fake_review": self.fake_review,
            "language": self.language,
            "confidence": self.confidence,
            "reasons": self.reasons,
            "model": self.model,
        }
