"""Writes of the project package: a user's preferences and personal API token, and
accounts for integrations (machine and personal tokens)."""

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from servicedesk import roles
from servicedesk.errors import InvalidArgument
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
