"""What every part of the desk shares: the repository's paths, the error a user can fix,
and the two ways of printing a message."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
LOCAL = ROOT / ".local"
VENV_BIN = ROOT / ".venv" / "bin"
MANAGE = ROOT / "manage.py"


class DeskError(Exception):
    """A problem the user can fix; printed without a traceback."""


def say(message: str) -> None:
    print(f"desk: {message}", flush=True)


def warn(message: str) -> None:
    print(f"desk: {message}", file=sys.stderr, flush=True)
