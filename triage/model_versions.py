"""What the team lead sees of the learned heads (issue 13 §3, §7): the versions per head
with their measured quality next to the rules', which heads use rules or a model, and the
summary of one training run (shared by `POST /api/v1/triage/train/` and `/triage/train/`).

The team lead's "Triage-Qualität" page includes `triage/partials/model_versions.html` with
`model_versions_context()`."""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from triage.actions import training
from triage.learning import LEARNED_HEADS
from triage.models import ModelVersion, TrainingRun

DECISIONS = {
    training.PROMOTED: gettext_lazy("promoted"),
    training.NOT_BETTER_THAN_RULES: gettext_lazy("not better than the rules"),
    training.NOT_BETTER_THAN_CURRENT: gettext_lazy("not better than the current model"),
    training.TOO_FEW_LABELS: gettext_lazy("too few labels"),
    training.ONE_CLASS: gettext_lazy("all labels have the same value"),
    training.TOO_FEW_HELD_OUT: gettext_lazy("too few new labels to measure it on"),
}
VERSIONS_SHOWN = 10  # per head, newest first


def decision_text(code: str) -> str:
    return str(DECISIONS.get(code, code))


def version_row(version: ModelVersion) -> dict[str, Any]:
    return {
        "head": version.head,
        "version": version.version,
        "trained_at": version.trained_at,
        "training_size": version.training_size,
        "holdout_size": version.holdout_size,
        "quality": round(version.quality, 3),
        "rules_quality": round(version.rules_quality, 3),
        "previous_quality": (
            None if version.previous_quality is None else round(version.previous_quality, 3)
        ),
        "promoted": version.promoted,
        "decision": decision_text(version.decision),
    }


def run_summary(run: TrainingRun) -> dict[str, Any]:
    """The answer of a retraining: its new versions and, if none was promoted, why."""
    versions = [version_row(v) for v in run.versions.order_by("head")]
    promoted = [row["head"] for row in versions if row["promoted"]]
    reasons = [f"{row['head']}: {row['decision']}" for row in versions if not row["promoted"]]
    reasons += [f"{head}: {decision_text(code)}" for head, code in sorted(run.skipped.items())]
    detail = (
        _("Promoted: %s.") % ", ".join(promoted)
        if promoted
        else _("Nothing promoted (%s).") % "; ".join(reasons)
    )
    return {
        "run": run.pk,
        "trained_at": run.started_at,
        "examples": run.examples,
        "holdout": run.holdout,
        "versions": versions,
        "skipped": {head: decision_text(code) for head, code in sorted(run.skipped.items())},
        "promoted": promoted,
        "detail": detail,
    }


def model_versions_context() -> dict[str, Any]:
    """Per head: the versions (newest first, at most VERSIONS_SHOWN) as a learning curve,
    and whether it suggests with the rules or with which model. Two queries."""
    rows: dict[str, list[dict[str, Any]]] = {head: [] for head in LEARNED_HEADS}
    versions = ModelVersion.objects.defer("blob").order_by("head", "-version")
    for version in versions:
        shown = rows.setdefault(version.head, [])
        if len(shown) < VERSIONS_SHOWN:
            shown.append(version_row(version))
    heads = []
    for head, shown in rows.items():
        active = next((row for row in shown if row["promoted"]), None)
        heads.append(
            {
                "head": head,
                "uses_model": active is not None,
                "active": active,
                "versions": shown,
                "curve": list(reversed(shown)),
            }
        )
    last_run = TrainingRun.objects.order_by("-started_at").first()
    return {"model_heads": heads, "last_training_run": last_run}
