"""`manage.py triage_evaluate`: the cold-start rules on a labelled JSON Lines stream (the
shape of ../shared/data/sample_mentions.jsonl) — accuracy per head next to the majority
baseline — and the suggestion latency per mention. Reads only; writes nothing.

Own-account posts are recognised in the file by a handle that contains a brand rule (in the
desk itself the channel's `own_accounts` decide). GermEval 2017 and the learned heads are not
evaluated here yet (see the issue 13 report)."""

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from triage.actions import _shingles, load_rulebook
from triage.rules import suggest

DEFAULT = Path(settings.BASE_DIR).parent / "shared" / "data" / "sample_mentions.jsonl"
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

    def handle(self, *args: Any, path: str, repeat: int, **options: Any) -> None:
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
