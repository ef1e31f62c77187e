"""`import_mentions` (DESIGN §6): the sample file imports cleanly, re-running resumes with
duplicates, bad lines are reported with their numbers, imports start no clock."""

import json
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command

from monitoring.models import Mention
from tickets.models import SlaClock, Ticket
from tickets.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db

SAMPLE = Path(settings.BASE_DIR).parent / "shared" / "data" / "sample_mentions.jsonl"
AFTER_SAMPLE = datetime(2026, 11, 11, 12, 0, tzinfo=UTC)  # the sample spans 9–10 Nov 2026
# The sample's platforms as channels; forums, review sites and blogs are RSS channels.
SAMPLE_CHANNELS = {
    "twitter": ("twitter", ["ZugPlus_hilft", "Telvia_Service", "PaketBlitz"]),
    "facebook": ("facebook", []),
    "instagram": ("instagram", []),
    "youtube": ("youtube", []),
    "mastodon": ("mastodon", []),
    "forum": ("rss", []),
    "review": ("rss", []),
    "blog": ("rss", []),
}


def run(*args: Any) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with time_machine.travel(AFTER_SAMPLE, tick=False):
        call_command("import_mentions", *map(str, args), stdout=out, stderr=err, verbosity=0)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def sample_channels(db: Any) -> None:
    for slug, (platform, own) in SAMPLE_CHANNELS.items():
        ChannelFactory(slug=slug, platform=platform, own_accounts=own)


def write_lines(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "mentions.jsonl"
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    return path


def test_sample_file_imports_cleanly_in_flat_format(sample_channels: None) -> None:
    expected = sum(1 for line in SAMPLE.open() if line.strip())

    out, err = run(SAMPLE, "--format", "flat")

    assert out.strip() == f"created {expected}, duplicates 0, rejected 0"
    assert err == ""
    assert Mention.objects.count() == expected
    assert Ticket.objects.exists()
    assert not SlaClock.objects.exists()  # imports start no clock


def test_re_running_the_import_resumes_with_duplicates(sample_channels: None) -> None:
    run(SAMPLE, "--format", "flat")
    tickets = Ticket.objects.count()

    out, _err = run(SAMPLE, "--format", "flat")

    expected = Mention.objects.count()
    assert out.strip() == f"created 0, duplicates {expected}, rejected 0"
    assert Ticket.objects.count() == tickets


def test_live_import_starts_clocks(channel: Any, tmp_path: Path) -> None:
    line = {
        "channel": "webhook-test",
        "external_id": "1",
        "author": {"handle": "@erika"},
        "text": "Hilfe!",
        "created_at": "2026-11-11T11:59:00+00:00",
    }

    run(write_lines(tmp_path, line), "--live")

    assert SlaClock.objects.count() == 1


def test_bad_lines_are_rejected_with_line_numbers_and_the_rest_imported(
    channel: Any, tmp_path: Path
) -> None:
    good = {
        "channel": "webhook-test",
        "external_id": "ok",
        "author": {"handle": "@erika"},
        "text": "Hallo",
        "created_at": "2026-11-11T10:00:00+01:00",
    }
    path = write_lines(
        tmp_path,
        good,
        "{not json",
        {**good, "external_id": "no-time", "created_at": "2026-11-11T10:00:00"},
        "[1, 2]",
        {**good, "external_id": "ghost", "channel": "nowhere"},
        good,
    )

    out, err = run(path)

    assert out.strip() == "created 1, duplicates 1, rejected 4"
    reported = [line.split(":")[0] for line in err.strip().splitlines()]
    assert reported == ["line 2", "line 4", "line 3", "line 5"]
    assert "created_at" in err and "channel" in err
    assert list(Mention.objects.values_list("external_id", flat=True)) == ["ok"]


def test_channel_option_overrides_the_file(channel: Any, tmp_path: Path) -> None:
    line = {
        "platform": "elsewhere",
        "external_id": "x1",
        "author_handle": "@kai",
        "author_name": "Kai",
        "text": "Moin",
        "created_at": "2026-11-11T09:00:00Z",
        "in_reply_to": None,
        "tonality": "neutral",
    }

    out, _err = run(write_lines(tmp_path, line), "--format", "flat", "--channel", "webhook-test")

    assert out.strip() == "created 1, duplicates 0, rejected 0"
    assert Mention.objects.get().channel == channel


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        run(tmp_path / "nothing.jsonl")
