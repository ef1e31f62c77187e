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
    call_command("triage_evaluate", str(path), "--repeat", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert "(1 mentions)" in lines[0]
    scores = {line.split()[0]: line.split()[1] for line in lines[2:9]}
    assert scores["abusive"] == "1.000"
    assert scores["route"] == "1.000"
    assert scores["tonality"] == "1.000"
    assert "p95" in lines[-1] and "over 2 calls" in lines[-1]
