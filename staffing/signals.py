"""Sign-in makes a desk person online, sign-out offline (issue 16, point 1)."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone

from staffing import actions


@receiver(user_logged_in, dispatch_uid="staffing.signed_in")
def _signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    actions.signed_in(user, now=timezone.now())


@receiver(user_logged_out, dispatch_uid="staffing.signed_out")
def _signed_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    actions.signed_out(user, now=timezone.now())
