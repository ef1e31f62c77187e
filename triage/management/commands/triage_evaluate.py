"""`manage.py triage_evaluate`: the cold-start rules on a labelled JSON Lines stream (the
shape of ../shared/data/sample_mentions.jsonl) — accuracy per head next to the majority
baseline — and the suggestion latency per mention. Reads only; writes nothing.

It also measures the learned heads (issue 13 §7): a prequential test-then-train learning curve
on the same stream in time order (cold rules vs learned), the latency of the learned path,
and GermEval 2017 relevance and sentiment (trained on dev only, tested on test_syn and
test_dia, next to the majority class; CC BY-NC, so fitted in memory and never stored).

Own-account posts are recognised in the file by a handle that contains a brand rule (in the
desk itself the channel's `own_accounts` decide)."""

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from triage import evaluation, learning
from triage.actions import _as_value, _shingles, load_rulebook
from triage.actions.training import apply_models
from triage.rules import suggest

DATA = Path(settings.BASE_DIR).parent / "shared" / "data"
DEFAULT = DATA / "sample_mentions.jsonl"
HEADS = {
    "relevant": "service_relevant",
    "route": "route",
    "department": "department",
    "needs_private_data": "needs_private_data",
    "tonality": "tonality",
    "abusive": "abusive",
}


class Command(BaseCommand):
    help = "Evaluate the triage rules on a labelled JSONL stream and measure latency."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path", nargs="?", default=str(DEFAULT))
        parser.add_argument("--repeat", type=int, default=50, help="latency passes")
        parser.add_argument("--step", type=int, default=10, help="prequential refit every N")
        parser.add_argument("--min-labels", type=int, default=10, help="labels before a head")
        parser.add_argument("--germeval", default=str(DATA / "germeval2017"))
        parser.add_argument("--no-germeval", action="store_true")

    def handle(self, *args: Any, path: str, repeat: int, **options: Any) -> None:
        rows, inputs, results = self.rules(path, repeat)
        self.learned(rows, inputs, results, repeat, options["step"], options["min_labels"])
        if not options["no_germeval"] and Path(options["germeval"]).is_dir():
            self.germeval(Path(options["germeval"]))

    def rules(self, path: str, repeat: int) -> tuple[list, list, list]:
        rows = [json.loads(line) for line in Path(path).read_text("utf-8").splitlines() if line]
        book = load_rulebook()
        seen_reviews: list[tuple[str, set]] = []
        inputs = []
        for row in rows:
            handle = row["author_handle"].lower()
            is_review = row["platform"] == "review"
            near = False
            if is_review:
                mine = _shingles(row["text"])
                near = any(
                    author != handle and mine and len(mine & s) / len(mine | s) >= 0.6
                    for author, s in seen_reviews
                )
                seen_reviews.append((handle, mine))
            own = any(brand.replace(" ", "") in handle for brand in book.brands)
            inputs.append(
                (
                    row["text"],
                    {"is_review": is_review, "is_own_account": own, "near_duplicate": near},
                )
            )
        results = [suggest(text, book, **flags) for text, flags in inputs]
        self.stdout.write(f"Cold rules on {path} ({len(rows)} mentions)")
        self.stdout.write(f"{'head':<20}{'rules':>8}{'majority':>10}")
        for head, key in HEADS.items():
            truth = [row[key] if row[key] is not None else "" for row in rows]
            predicted = [result[head] for result in results]
            hits = sum(p == t for p, t in zip(predicted, truth, strict=True))
            majority = Counter(truth).most_common(1)[0][1]
            self.stdout.write(f"{head:<20}{hits / len(rows):>8.3f}{majority / len(rows):>10.3f}")
        fake_truth = [row["fake_review_suspect"] for row in rows]
        fake_hits = sum(
            r["fake_review"]["suspect"] == t for r, t in zip(results, fake_truth, strict=True)
        )
        self.stdout.write(f"{'fake_review':<20}{fake_hits / len(rows):>8.3f}")
        timings = []
        for _ in range(repeat):
            for text, flags in inputs:
                start = time.perf_counter()
                suggest(text, book, **flags)
                timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[int(len(timings) * 0.95)]
        self.stdout.write(
            f"latency per mention (rules, all heads): p50 {statistics.median(timings):.3f} ms, "
            f"p95 {p95:.3f} ms over {len(timings)} calls"
        )
        return rows, inputs, results

    def learned(
        self, rows: list, inputs: list, results: list, repeat: int, step: int, min_labels: int
    ) -> None:
        heads = list(learning.LEARNED_HEADS)
        truth = [
            {"text": row["text"], **{h: _as_value(row[HEADS[h]]) for h in heads}} for row in rows
        ]
        rules = [{h: _as_value(result[h]) for h in heads} for result in results]
        curve = evaluation.prequential(truth, rules, heads, min_labels=min_labels, step=step)
        self.stdout.write(
            f"Prequential (test-then-train, time order, refit every {step}, "
            f"a head learns after {min_labels} labels): cumulative accuracy rules / learned"
        )
        self.stdout.write(f"{'seen':<8}" + "".join(f"{head:>20}" for head in heads))
        for position in range(len(curve[heads[0]])):
            seen = curve[heads[0]][position][0]
            cells = "".join(
                f"{curve[h][position][1]:>12.3f} / {curve[h][position][2]:.3f}" for h in heads
            )
            self.stdout.write(f"{seen:<8}{cells}")
        book = load_rulebook()
        texts = [row["text"] for row in truth]
        vectoriser = learning.fit_vectoriser(texts)
        models = {}
        fast = learning.FastTransform(vectoriser)
        for head in heads:
            values = [row[head] for row in truth]
            if len(set(values)) > 1:
                classifier = learning.fit_head(vectoriser, texts, values)
                models[head] = learning.LoadedHead(
                    head, 0, 0, vectoriser, classifier, transform=fast
                )
        calls = iter(inputs * repeat)

        def learned_call() -> None:
            text, flags = next(calls)
            apply_models(suggest(text, book, **flags), text, models)

        timing = evaluation.latency(learned_call, len(inputs) * repeat)
        self.stdout.write(
            f"latency per mention (rules + learned heads {', '.join(models)}): "
            f"p50 {timing['p50']:.3f} ms, p95 {timing['p95']:.3f} ms wall-clock; "
            f"CPU p50 {timing['cpu_p50']:.3f} ms, p95 {timing['cpu_p95']:.3f} ms "
            f"over {timing['calls']} calls"
        )

    def germeval(self, directory: Path) -> None:
        self.stdout.write(
            "GermEval 2017 (CC BY-NC; trained on dev only, in memory, never stored): micro-F1"
        )
        self.stdout.write(f"{'label':<12}{'split':<10}{'learned':>9}{'majority':>10}")
        for label, splits in evaluation.germeval(directory).items():
            for split, (score, baseline) in splits.items():
                self.stdout.write(f"{label:<12}{split:<10}{score:>9.3f}{baseline:>10.3f}")
