"""`create_api_client NAME [--group GROUP ...] [--superuser]`: an account with an API token.

Without options a machine account in `api_client` (pushes mentions, reads tickets); with
`--group` a human-role account with a personal token (for integrations and tests); with
`--superuser` an administrator. Prints the token; re-running prints the existing one.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from servicedesk import actions, roles
from servicedesk.errors import InvalidArgument


class Command(BaseCommand):
    help = "Create (or find) an API account and print its token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="user name of the account")
        parser.add_argument(
            "--group",
            action="append",
            default=[],
            choices=roles.ALL_GROUPS,
            help="a role group (repeatable); default: api_client",
        )
        parser.add_argument("--superuser", action="store_true", help="an administrator")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user, token, created = actions.ensure_api_account(
                options["name"], groups=options["group"], superuser=options["superuser"]
            )
        except InvalidArgument as error:
            raise CommandError(str(error)) from error
        verb = "created" if created else "exists"
        self.stderr.write(f"account {user.get_username()} {verb}; its token:")
        self.stdout.write(token.key)
