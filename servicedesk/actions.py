"""Writes of the project package: a user's preferences and personal API token, two-factor
sign-in (authenticator and recovery codes), and accounts for integrations (machine and
personal tokens)."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from servicedesk import roles, two_factor
from servicedesk.errors import InvalidArgument, NotAllowedForRole
from servicedesk.models import TIME_ZONE_CHOICES, Profile

User = get_user_model()


@transaction.atomic
def update_preferences(user: Any, *, language: str, time_zone: str) -> Profile:
    """Save the user's interface language and time zone (the profile is created if missing).

    Refuses InvalidArgument for a language or time zone the desk does not offer.
    """
    if language not in dict(settings.LANGUAGES):
        raise InvalidArgument(_("Unknown language."), field="language")
    if time_zone not in dict(TIME_ZONE_CHOICES):
        raise InvalidArgument(_("Unknown time zone."), field="time_zone")
    profile, _created = Profile.objects.select_for_update().get_or_create(
        user=user, defaults={"language": language, "time_zone": time_zone}
    )
    profile.language, profile.time_zone = language, time_zone
    profile.save(update_fields=["language", "time_zone"])
    return profile


@transaction.atomic
def regenerate_api_token(user: Any) -> Token:
    """Replace the user's personal API token: the old one stops working at once; the new
    key is shown to the user once, by the caller."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def _only_for_oneself(user: Any, actor: Any) -> None:
    if actor.pk != user.pk:
        raise NotAllowedForRole(_("Only the account's owner sets up its two-factor sign-in."))


@transaction.atomic
def start_totp_enrollment(user: Any, *, actor: Any) -> TOTPDevice:
    """A new, not yet confirmed authenticator for `user` (an earlier unconfirmed one is
    replaced); confirmed by `confirm_totp_enrollment` with a code from the app.

    Refuses NotAllowedForRole for anyone but the user, InvalidArgument when two-factor
    sign-in is already on.
    """
    _only_for_oneself(user, actor)
    if two_factor.has_two_factor(user):
        raise InvalidArgument(_("Two-factor sign-in is already on."))
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=two_factor.TOTP_DEVICE_NAME, confirmed=False)


@transaction.atomic
def confirm_totp_enrollment(user: Any, code: str, *, actor: Any) -> tuple[TOTPDevice, list[str]]:
    """Switch two-factor sign-in on with the first code of the new authenticator; returns
    the device and new recovery codes (shown once by the caller; earlier codes stop working).

    Refuses NotAllowedForRole for anyone but the user, InvalidArgument without a started
    set-up or for a wrong code (nothing changes then).
    """
    _only_for_oneself(user, actor)
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise InvalidArgument(_("Start the set-up first."))
    if not device.verify_token(two_factor.normalise_code(code)):
        raise InvalidArgument(
            _("The code is not valid. Enter the current code of your app."), field="code"
        )
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device, _new_recovery_codes(user)


@transaction.atomic
def regenerate_recovery_codes(user: Any, *, actor: Any) -> list[str]:
    """New recovery codes for `user` (shown once by the caller); the old ones stop working.

    Refuses NotAllowedForRole for anyone but the user, InvalidArgument when two-factor
    sign-in is off.
    """
    _only_for_oneself(user, actor)
    if not two_factor.has_two_factor(user):
        raise InvalidArgument(_("Two-factor sign-in is off."))
    return _new_recovery_codes(user)


def _new_recovery_codes(user: Any) -> list[str]:
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=two_factor.RECOVERY_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _index in range(settings.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def disable_two_factor(user: Any, *, actor: Any) -> None:
    """Switch two-factor sign-in off: the authenticator and the recovery codes are removed.

    Refuses NotAllowedForRole for anyone but the user, and for superusers and team leads
    while TWO_FACTOR_REQUIRED is on (an administrator removes their devices in the admin).
    """
    _only_for_oneself(user, actor)
    if two_factor.is_required_for(user):
        raise NotAllowedForRole(_("Your role must sign in with a second factor."))
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def ensure_api_account(
    username: str, *, groups: Sequence[str] = (), superuser: bool = False
) -> tuple[Any, Token, bool]:
    """The account `username` with an API token, created if missing: a machine account in
    `api_client` unless `groups` name human roles (a personal token for integrations and
    tests), or a superuser. Idempotent: an existing account keeps its token and gains the
    groups and the superuser flag asked for (nothing is taken away).

    Returns (user, token, created). Refuses InvalidArgument for an unknown group or name.
    """
    username = username.strip()
    if not username or len(username) > 150:
        raise InvalidArgument(_("Give a user name of 1 to 150 characters."), field="username")
    wanted = list(dict.fromkeys(groups)) or ([] if superuser else [roles.API_CLIENT])
    unknown = [name for name in wanted if name not in roles.ALL_GROUPS]
    if unknown:
        raise InvalidArgument(
            _("Unknown group %(group)s; known: %(known)s.")
            % {"group": unknown[0], "known": ", ".join(roles.ALL_GROUPS)},
            field="groups",
        )
    user, created = User.objects.select_for_update().get_or_create(username=username)
    if created:
        user.set_unusable_password()
    if superuser and not (user.is_superuser and user.is_staff):
        user.is_superuser = user.is_staff = True
    user.save()
    user.groups.add(*Group.objects.filter(name__in=wanted))
    token, _created = Token.objects.get_or_create(user=user)
    return user, token, created
