"""Triage: the rules a team lead edits and one suggestion per stored mention.

Suggestions are written by triage.actions only (called by tickets.intake and the sweep).
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from triage.burst_text import WORD
from triage.choices import INCIDENT_RULE_KINDS, LabelSource, Route, RuleKind, Tonality


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

    def clean(self) -> None:
        if self.kind in INCIDENT_RULE_KINDS and not WORD.match(self.pattern.strip().lower()):
            raise ValidationError(
                {"pattern": _("One word (letters and digits), as burst detection reads posts.")}
            )


class Suggestion(models.Model):
    """What triage suggests for one mention; never acts by itself."""

    # What the API and the Art. 15 export show of a suggestion (DESIGN §6 `triage` object).
    SHOWN_FIELDS = (
        "relevant",
        "route",
        "department",
        "needs_private_data",
        "tonality",
        "abusive",
        "fake_review",
        "language",
        "confidence",
        "reasons",
        "model",
    )

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


class Label(models.Model):
    """A human triage decision about one head of one mention: the training data of the
    learned heads. One row per (mention, head, source); a later decision of the same kind
    replaces the value."""

    mention = models.ForeignKey(
        "monitoring.Mention", on_delete=models.CASCADE, related_name="triage_labels"
    )
    head = models.CharField(_("head"), max_length=32)
    value = models.CharField(_("value"), max_length=64)  # "true"/"false", a choice, a slug, ""
    source = models.CharField(_("source"), max_length=16, choices=LabelSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("triage label")
        verbose_name_plural = _("triage labels")
        constraints = [
            models.UniqueConstraint(
                fields=("mention", "head", "source"), name="triage_label_one_per_source"
            )
        ]
        indexes = [models.Index(fields=("created_at",), name="triage_label_created")]

    def __str__(self) -> str:
        return f"{self.mention_id}.{self.head}={self.value} ({self.source})"


class TrainingRun(models.Model):
    """One retraining of the learned heads (by N new labels, nightly or on request)."""

    started_at = models.DateTimeField(_("started at"))
    trigger = models.CharField(_("trigger"), max_length=16)  # labels / nightly / manual
    examples = models.PositiveIntegerField(_("labelled mentions"), default=0)
    holdout = models.PositiveIntegerField(_("held-out mentions"), default=0)
    skipped = models.JSONField(_("heads not trained, and why"), default=dict)

    class Meta:
        verbose_name = _("triage training run")
        verbose_name_plural = _("triage training runs")
        ordering = ("-started_at",)

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} ({self.trigger})"


class ModelVersion(models.Model):
    """A learned head fitted in one run: its quality on the newest labels it was not trained
    on, the rules' quality on the same labels, and the fitted vectoriser + linear head as
    joblib bytes. A head suggests with its newest promoted version; until one exists, with
    the rules."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="versions")
    head = models.CharField(_("head"), max_length=32)
    version = models.PositiveIntegerField(_("version"))
    trained_at = models.DateTimeField(_("trained at"))
    training_size = models.PositiveIntegerField(_("training labels"))
    holdout_size = models.PositiveIntegerField(_("held-out labels"))
    quality = models.FloatField(_("accuracy on held-out labels"))
    rules_quality = models.FloatField(_("rules' accuracy on the same labels"))
    previous_quality = models.FloatField(
        _("current model's accuracy on the same labels"), null=True, blank=True
    )
    promoted = models.BooleanField(_("promoted"), default=False)
    decision = models.CharField(_("decision"), max_length=255, blank=True)
    blob = models.BinaryField(_("serialized model"))

    class Meta:
        verbose_name = _("triage model version")
        verbose_name_plural = _("triage model versions")
        ordering = ("head", "-version")
        constraints = [
            models.UniqueConstraint(fields=("head", "version"), name="triage_model_head_version")
        ]
        indexes = [
            models.Index(
                fields=("head", "-version"),
                condition=models.Q(promoted=True),
                name="triage_model_promoted",
            )
        ]

    def __str__(self) -> str:
        return f"{self.head} v{self.version}"


class BurstCluster(models.Model):
    """Near-duplicate reports of one incident in one brand's stream (issue 14 §1), written by
    triage.bursts only. `keys` are the features the members share (GIN-indexed: a new mention
    finds its candidate clusters by index), `counts` how many members carry each."""

    stream = models.CharField(_("brand"), max_length=255)
    keys = ArrayField(models.CharField(max_length=64), default=list)
    counts = models.JSONField(default=dict)
    member_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(_("first post at"))
    last_at = models.DateTimeField(_("last post at"))
    opened_at = models.DateTimeField(_("detected at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    volume_per_minute = models.FloatField(default=0.0)
    baseline_per_minute = models.FloatField(default=0.0)

    class Meta:
        verbose_name = _("burst cluster")
        verbose_name_plural = _("burst clusters")
        indexes = [
            GinIndex(fields=["keys"], name="triage_burst_keys"),
            models.Index(
                fields=["stream", "last_at"],
                name="triage_burst_live",
                condition=models.Q(ended_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stream} #{self.pk}"


class BurstMember(models.Model):
    """A mention in a burst cluster; a mention is in at most one. Arrival order is the pk."""

    cluster = models.ForeignKey(BurstCluster, on_delete=models.CASCADE, related_name="members")
    mention = models.OneToOneField(
        "monitoring.Mention", on_delete=models.CASCADE, related_name="burst_member"
    )
    keys = ArrayField(models.CharField(max_length=64), default=list)
    created_at = models.DateTimeField(_("posted at"))  # the mention's own created_at
    by_hand = models.BooleanField(_("added by hand"), default=False)

    class Meta:
        verbose_name = _("burst member")
        verbose_name_plural = _("burst members")
        indexes = [models.Index(fields=["cluster", "created_at"], name="triage_burst_member_time")]

    def __str__(self) -> str:
        return f"{self.mention_id} in {self.cluster_id}"


class BurstObservation(models.Model):
    """That the detector has seen a mention (observing it again changes nothing), and what it
    took it for."""

    mention = models.OneToOneField(
        "monitoring.Mention", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    stream = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=16)
    observed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("burst observation")
        verbose_name_plural = _("burst observations")

    def __str__(self) -> str:
        return f"{self.mention_id}: {self.kind}"


class BurstRate(models.Model):
    """Incident reports per brand and hour of their `created_at`: the baseline of the rate
    test (the median of the last 24 hours)."""

    stream = models.CharField(max_length=255)
    hour = models.DateTimeField()
    reports = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("burst rate")
        verbose_name_plural = _("burst rates")
        constraints = [
            models.UniqueConstraint(fields=["stream", "hour"], name="triage_burst_rate_hour")
        ]

    def __str__(self) -> str:
        return f"{self.stream} {self.hour:%Y-%m-%d %H}: {self.reports}"
