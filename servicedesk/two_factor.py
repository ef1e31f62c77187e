"""Two-factor sign-in: who needs a second factor, and checking one (issue 18).

django-otp keeps the devices: one TOTP device per user (an authenticator app) and one static
device holding the one-time recovery codes. With TWO_FACTOR_REQUIRED on, superusers and team
leads must set up a TOTP device; everyone else may. A session that signed in with the
password only is held at the verification (or set-up) page by
servicedesk.middleware.TwoFactorMiddleware until a code was entered. The writes (enrolment,
new recovery codes, switching off) are servicedesk.actions'.
"""

from typing import Any, Literal

import django_otp
from django.conf import settings
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk import roles

TOTP_DEVICE_NAME = "authenticator"
RECOVERY_DEVICE_NAME = "recovery"

PendingStep = Literal["verify", "setup"]


def is_required_for(user: Any) -> bool:
    """Superusers and team leads must sign in with a second factor (TWO_FACTOR_REQUIRED)."""
    return bool(
        settings.TWO_FACTOR_REQUIRED
        and user.is_authenticated
        and (user.is_superuser or roles.is_team_lead(user))
    )


def has_two_factor(user: Any) -> bool:
    """The user has a confirmed authenticator (two-factor sign-in is on)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def pending_step(user: Any) -> PendingStep | None:
    """What a signed-in session that has not entered a code must do first: "verify" (the
    user has two-factor sign-in), "setup" (required but not set up yet), or nothing."""
    if has_two_factor(user):
        return "verify"
    if is_required_for(user):
        return "setup"
    return None


def normalise_code(code: str) -> str:
    """Codes as people type them: spaces and dashes dropped; recovery codes are lower-case."""
    return "".join(code.split()).replace("-", "").lower()


def verify_second_factor(request: HttpRequest, code: str) -> bool:
    """Check a TOTP code or an unused recovery code of the signed-in user; on success the
    session counts as verified. django-otp throttles each device after failures (each
    further try waits twice as long) and uses a recovery code up."""
    device = django_otp.match_token(request.user, normalise_code(code))
    if device is None:
        return False
    django_otp.login(request, device)
    return True
