"""`./manage.py replay_burst [--channel SLUG]`: replay the demo's burst of outage complaints
into a demo channel now (tickets.demo_burst); the detector opens an incident from it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from monitoring.choices import Platform
from monitoring.models import Channel
from tickets.demo_burst import demo_burst_channel, replay_burst


class Command(BaseCommand):
    help = (
        "Replay a burst of near-identical outage complaints into the demo channel with "
        "created_at just before now; the worker's burst detector opens an incident."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--channel", help="slug of a demo channel (default: the seed's)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["channel"]:
            channel = Channel.objects.filter(
                slug=options["channel"], platform=Platform.DEMO
            ).first()
        else:
            channel = demo_burst_channel()
        if channel is None:
            raise CommandError("No demo channel: run `./desk manage seed_demo` first.")
        posted = replay_burst(channel, now=timezone.now())
        self.stdout.write(f"replayed {posted} posts into channel {channel.slug}")
