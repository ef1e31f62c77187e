"""`manage.py triage_evaluate` reads a labelled stream and prints per-head accuracy and latency."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_evaluate_prints_accuracy_per_head_and_latency(tmp_path: Path) -> None:
    row = {
        "platform": "twitter",
        "author_handle": "@erika",
        "text": "Ihr seid alle Idioten",
        "service_relevant": False,
        "route": "none",
        "department": None,
        "needs_private_data": False,
        "tonality": "negative",
        "abusive": True,
        "fake_review_suspect": False,
    }
    path = tmp_path / "stream.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("triage_evaluate", str(path), "--repeat", "2", "--no-germeval", stdout=out)
    lines = out.getvalue().splitlines()
    assert "(1 mentions)" in lines[0]
    scores = {line.split()[0]: line.split()[1] for line in lines[2:9]}
    assert scores["abusive"] == "1.000"
    assert scores["route"] == "1.000"
    assert scores["tonality"] == "1.000"
    assert lines[9].startswith("latency per mention (rules") and "over 2 calls" in lines[9]
    # One mention: nothing to learn from, so the learned heads fall back on the rules.
    assert lines[10].startswith("Prequential")
    assert lines[12].split()[0] == "1" and "1.000 / 1.000" in lines[12]
    assert lines[-1].startswith("latency per mention (rules + learned heads")
    assert "CPU p50" in lines[-1] and "over 2 calls" in lines[-1]


def _row(text: str, route: str, tonality: str) -> dict:
    return {
        "platform": "twitter",
        "author_handle": "@kunde",
        "text": text,
        "service_relevant": route != "none",
        "route": route,
        "department": None,
        "needs_private_data": False,
        "tonality": tonality,
        "abusive": False,
        "fake_review_suspect": False,
    }


def test_the_prequential_curve_learns_what_the_rules_cannot(tmp_path: Path) -> None:
    words = {"support": "flurbo", "cm": "quaxel", "none": "mimbo"}
    rows = [_row(f"{words[r]} nummer {i}", r, "neutral") for i in range(10) for r in words]
    path = tmp_path / "stream.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = StringIO()
    call_command(
        "triage_evaluate",
        str(path),
        "--repeat",
        "1",
        "--no-germeval",
        "--step",
        "6",
        "--min-labels",
        "6",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Prequential"))
    header = lines[start + 1].split()
    last = lines[start + 2 :][-2]  # the final cumulative row, before the latency line
    cells = last.split()
    assert cells[0] == "30"
    route = header.index("route")
    rules, learned = float(cells[1 + 3 * (route - 1)]), float(cells[3 + 3 * (route - 1)])
    assert learned > rules + 0.3
