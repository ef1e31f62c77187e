"""`./manage.py seed_demo`: the demo desk (tickets.demo), then the logins to try it with."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets import demo, demo_history


class Command(BaseCommand):
    help = (
        "Create the demo desk: users per role (logins printed), departments, channels, "
        "templates, the sample mentions (no SLA clocks), a few cases in progress, the weekly "
        "roster and four weeks of archived history for the staffing forecast. "
        "Idempotent: run it again any time."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = demo.seed_demo(now=timezone.now())
        self._print(report)

    def _print(self, report: demo.SeedReport) -> None:
        write = self.stdout.write
        write(report.import_output.rstrip())
        write(
            _(
                "Users created: %(users)s, departments created: %(departments)s, "
                "templates created: %(templates)s, articles created: %(articles)s."
            )  # fmt: skip
            % {
                "users": report.users_created,
                "departments": report.departments_created,
                "templates": report.templates_created,
                "articles": report.articles_created,
            }
        )
        write(
            _("Channels created: %(channels)s.")
            % {"channels": ", ".join(report.channels_created) or _("none (all exist)")}
        )
        write(
            _(
                "Roster shifts created: %(shifts)s, archived cases created (the four weeks "
                "before this Monday, channel %(channel)s): %(cases)s."
            )  # fmt: skip
            % {
                "shifts": report.shifts_created,
                "channel": demo_history.ARCHIVE_SLUG,
                "cases": report.history_cases_created,
            }
        )
        for case in report.cases_moved:
            write(_("Demo case set up: %(case)s") % {"case": case})
        if report.cases_skipped:
            write(
                _("Demo cases already in place (or worked on since): %(count)s")
                % {"count": len(report.cases_skipped)}
            )
        write("")
        write(
            _(
                "The live channel 'demo' replays sample mentions every %(seconds)s s while the "
                "worker and beat run (./desk run starts them)."
            )  # fmt: skip
            % {"seconds": demo.DEMO_POLL_INTERVAL_SECONDS}
        )
        write(
            _(
                "The webhook channel 'webhook-demo' posts approved replies to %(url)s. Nothing "
                "listens there unless you start the receiver:"
            )  # fmt: skip
            % {"url": demo.WEBHOOK_RECEIVER_URL}
        )
        if report.webhook_secret is not None:
            write(f"    .venv/bin/python bin/webhook_receiver.py --secret {report.webhook_secret}")
            write(
                _(
                    "    (the signing secret is shown this once; rotate it in the admin "
                    "to get a new one)"
                )  # fmt: skip
            )
        else:
            write("    .venv/bin/python bin/webhook_receiver.py --secret SECRET")
            write(
                _(
                    "    (SECRET was shown when the channel was created; the admin action "
                    "'Rotate webhook secret' shows a new one)"
                )  # fmt: skip
            )
        write("")
        write(
            _(
                "Open the desk at the address ./desk run prints (default http://127.0.0.1:8000/);"
                " the admin is at /admin/."
            )  # fmt: skip
        )
        self._print_logins(report)

    def _print_logins(self, report: demo.SeedReport) -> None:
        rows = [(str(login.role), login.username, login.password or "—") for login in report.logins]
        header = (_("Role"), _("Username"), _("Password"))
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(3)]
        for row in [header, tuple("-" * width for width in widths), *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            self.stdout.write("  ".join(cells).rstrip())
        self.stdout.write("")
        self.stdout.write(
            _("API token of demo-bridge: %(token)s   (header: Authorization: Token %(token)s)")
            % {"token": report.api_token}
        )
