"""`manage.py privacy_retention [--dry-run] [--max-batches N]`: the retention sweep by hand
(issue 15, point 4). With --dry-run it reports per policy what would go and changes nothing;
without, it applies the policies in batches as the beat sweep does and reports what went."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from privacy.actions.retention import apply_retention
from privacy.models import RetentionPolicy


class Command(BaseCommand):
    help = "Apply the retention policies (or, with --dry-run, report what would go)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would go, change nothing"
        )
        parser.add_argument(
            "--max-batches", type=int, default=None, help="stop after this many batches"
        )

    def handle(self, *args: Any, dry_run: bool, max_batches: int | None, **options: Any) -> None:
        report = apply_retention(now=timezone.now(), dry_run=dry_run, max_batches=max_batches)
        policies = RetentionPolicy.objects.filter(is_active=True).order_by("kind")
        verb = "would go" if dry_run else "went"
        if not policies:
            self.stdout.write("No active retention policy.")
        for policy in policies:
            self.stdout.write(
                f"{policy.kind} (keep {policy.keep_days} days, {policy.get_kind_display()}): "
                f"{report.due.get(policy.kind, 0)} {verb}"
            )
        if not dry_run:
            self.stdout.write(f"batches: {report.batches}")
            for table, rows in sorted(report.counts.items()):
                self.stdout.write(f"  {table}: {rows}")
