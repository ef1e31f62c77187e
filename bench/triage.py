"""Issue 13 figures: retraining the learned heads on N labels (default 10,000, target < 60 s,
off the request path) and the suggestion latency with all heads (rules and the learned
models of that run; target p95 < 5 ms per mention), in a throw-away database.

    .venv/bin/python -m bench.triage [--labels 10000] [--latency 2000] [--json triage.json]

The texts are real customer posts: GermEval 2017's (dev, test_syn, test_dia; CC BY-NC, read
from ../shared/data at run time, used here only to measure — the models live in the
throw-away database and are dropped with it), then the sample mentions with varied numbers
until N. Relevance and tonality are GermEval's own labels (the samples' for theirs); route,
department and abuse are the rules' answer with 10 % of them changed at random, so every
head has a realistic label mix. Each head's labels are corrections by an agent, as the
correction form records them."""

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
TONALITY = {"negative", "neutral", "positive"}


def _texts(count: int) -> list[dict[str, str]]:
    from triage.evaluation import GERMEVAL_SPLITS, load_germeval

    rows: list[dict[str, str]] = []
    germeval = DATA / "germeval2017"
    for split in GERMEVAL_SPLITS:
        for document in load_germeval(germeval, split):
            if document["text"].strip() and document["sentiment"] in TONALITY:
                rows.append(
                    {
                        "text": document["text"][:2000],
                        "relevant": document["relevant"],
                        "tonality": document["sentiment"],
                    }
                )
    samples = [json.loads(line) for line in (DATA / "sample_mentions.jsonl").open()]
    generator = random.Random(13)
    while len(rows) < count:
        sample = generator.choice(samples)
        text = re.sub(r"\d", lambda _m: str(generator.randrange(10)), sample["text"])
        rows.append(
            {
                "text": text,
                "relevant": "true" if sample["service_relevant"] else "false",
                "tonality": sample["tonality"],
            }
        )
    generator.shuffle(rows)
    return rows[:count]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--labels", type=int, default=10_000)
    parser.add_argument("--latency", type=int, default=2000)
    parser.add_argument("--json", default="triage.json")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    django.setup()
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    names = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        return _run(args)
    finally:
        teardown_databases(names, verbosity=0)


def _run(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from bench.common import load_average, write_json
    from monitoring.models import Channel, Mention
    from triage import learning
    from triage.actions import rulebook, training
    from triage.choices import LabelSource
    from triage.models import Label, ModelVersion
    from triage.rules import suggest

    now = timezone.now()
    rows = _texts(args.labels)
    channel = Channel.objects.create(slug="bench-triage", name="Bench", platform="twitter")
    agent = User.objects.create(username="agent-bench")
    mentions = Mention.objects.bulk_create(
        [
            Mention(
                channel=channel,
                external_id=f"bench-{n}",
                author_handle=f"@person{n % 997}",
                text=row["text"],
                created_at=now - timedelta(minutes=args.labels - n),
                received_at=now - timedelta(minutes=args.labels - n),
                language="de",
            )
            for n, row in enumerate(rows)
        ],
        batch_size=2000,
    )
    book = rulebook.load_rulebook()
    generator = random.Random(7)
    routes, departments = ["cm", "support", "none"], ["billing", "technical", "logistics", ""]
    labels = []
    for n, (mention, row) in enumerate(zip(mentions, rows, strict=True)):
        ruled = suggest(row["text"], book)
        values = {
            "relevant": row["relevant"],
            "tonality": row["tonality"],
            "route": ruled["route"],
            "department": ruled["department"] or "",
            "abusive": "true" if ruled["abusive"] else "false",
        }
        if generator.random() < 0.1:
            values["route"] = generator.choice(routes)
            values["department"] = generator.choice(departments)
            values["abusive"] = generator.choice(["true", "false"])
        if values["route"] != "support":
            values["department"] = ""
        at = now - timedelta(minutes=args.labels - n)
        labels.extend(
            Label(
                mention=mention,
                head=head,
                value=value,
                source=LabelSource.CORRECTION,
                actor=agent,
                created_at=at,
            )
            for head, value in values.items()
            if head != "department" or values["route"] == "support"
        )
    Label.objects.bulk_create(labels, batch_size=5000)
    print(f"seeded {len(mentions):,} labelled mentions ({len(labels):,} labels)", flush=True)

    wall, cpu = time.perf_counter(), time.process_time()
    run = training.retrain(now=now, trigger="bench")
    retrain_s, retrain_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    versions = list(ModelVersion.objects.filter(run=run).order_by("head"))
    for version in versions:
        print(
            f"  {version.head:10s} trained on {version.training_size:,}, held out "
            f"{version.holdout_size:,}: model {version.quality:.3f} vs rules "
            f"{version.rules_quality:.3f} -> {version.decision}"
        )
    print(
        f"retrain on {len(mentions):,} labelled mentions: {retrain_s:.1f} s "
        f"({retrain_cpu_s:.1f} s CPU)"
    )

    # Latency with all heads: the run's candidates active whatever the promotion said.
    ModelVersion.objects.filter(run=run).update(promoted=True)
    training.forget_models()
    models = training.active_models(force=True)
    texts = [row["text"] for row in _texts(args.latency + 200)[-args.latency :]]
    for text in texts[:50]:  # warm-up
        training.apply_models(suggest(text, book), text, models)
    walls, cpus = [], []
    for text in texts:
        wall, cpu = time.perf_counter(), time.process_time()
        training.apply_models(suggest(text, book), text, models)
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)

    def p(values: list[float], q: int) -> float:
        return statistics.quantiles(values, n=100)[q - 1]

    figures = {
        "labelled_mentions": len(mentions),
        "labels": len(labels),
        "heads": [v.head for v in versions],
        "retrain_seconds": round(retrain_s, 2),
        "retrain_cpu_seconds": round(retrain_cpu_s, 2),
        "retrain_target_met": retrain_s < 60 and len(versions) == len(learning.LEARNED_HEADS),
        "latency": {
            "mentions": len(texts),
            "median_ms": round(statistics.median(walls), 3),
            "p95_ms": round(p(walls, 95), 3),
            "cpu_median_ms": round(statistics.median(cpus), 3),
            "cpu_p95_ms": round(p(cpus, 95), 3),
        },
        "load_average": load_average(),
    }
    figures["latency_target_met"] = figures["latency"]["p95_ms"] < 5
    latency = figures["latency"]
    print(
        f"suggestion, rules + {len(models)} learned heads, {len(texts):,} mentions: median "
        f"{latency['median_ms']:.2f} ms, p95 {latency['p95_ms']:.2f} ms (CPU p95 "
        f"{latency['cpu_p95_ms']:.2f} ms); load {figures['load_average']}"
    )
    write_json(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
