"""`./manage.py report_facts --check | --compact | --rebuild`: look after the dashboard's
report facts (tickets.facts)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tickets import facts


class Command(BaseCommand):
    help = (
        "Check the dashboard's report facts against the source tables (--check, exit 1 on "
        "drift), merge the rows added since the last compaction (--compact), or compute them "
        "all again (--rebuild; writers wait until it is done)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true")
        action.add_argument("--compact", action="store_true")
        action.add_argument("--rebuild", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["compact"]:
            self.stdout.write(f"merged {facts.compact()} added rows")
        elif options["rebuild"]:
            self.stdout.write(f"wrote {facts.rebuild()} fact rows")
        else:
            differences = facts.drift()
            for row in differences:
                self.stdout.write(
                    f"{row['day']} {row['metric']} channel {row['channel_id']} "
                    f"kind {row['kind'] or '-'} person {row['person_id']} "
                    f"value {row['value']}/{row['value2']}: "
                    f"stored {row['stored']}, source rows {row['computed']}"
                )
            if differences:
                raise CommandError(f"{len(differences)} keys differ; run --rebuild")
            self.stdout.write("report facts agree with the source tables")
