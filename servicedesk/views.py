"""Browser pages of the desk itself: sign-in (people only) with its lockout and its second
factor, the landing redirect by role and the account page (language, time zone, personal API
token, two-factor sign-in)."""

import math
from base64 import b32encode
from typing import Any

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from servicedesk import actions, roles, two_factor
from servicedesk.errors import DomainError
from servicedesk.models import TIME_ZONE_CHOICES, Profile
from servicedesk.web import safe_next, secret_answer


class DeskAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, refusing machine accounts: api clients use their token."""

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if roles.is_api_client(user):
            raise ValidationError(
                _("API accounts cannot sign in to the browser workspace; use the API token."),
                code="api_client",
            )


class DeskLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = DeskAuthenticationForm
    redirect_authenticated_user = True


def login_locked_out(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes' lockout answer (AXES_LOCKOUT_CALLABLE), for the desk's and the admin's
    sign-in alike: 429 with the time to wait (every further try starts the wait again)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": max(math.ceil(seconds / 60), 1)},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code of the authenticator app or a recovery code."""
    if not request.user.is_authenticated:
        return redirect("login")
    step = None if request.user.is_verified() else two_factor.pending_step(request.user)
    if step is None:
        return redirect(safe_next(request, reverse("home")))
    if step == "setup":
        return redirect("two_factor_setup")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and two_factor.verify_second_factor(request, form.cleaned_data["code"]):
            return redirect(safe_next(request, reverse("home")))
        form.add_error(
            "code",
            _("The code is not valid. After several wrong codes each try has to wait longer."),
        )
        status = 400
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": safe_next(request, "")},
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator: start (a new key), scan it, confirm with its first code; the
    recovery codes are shown once at the end. Required for superusers and team leads."""
    if two_factor.has_two_factor(request.user) and request.method == "GET":
        return redirect("account")
    operation = request.POST.get("operation")
    form = CodeForm(request.POST if operation == "confirm" else None)
    status = 200
    try:
        if operation == "start":
            actions.start_totp_enrollment(request.user, actor=request.user)
            return redirect(reverse("two_factor_setup") + _next_query(request))
        if operation == "confirm" and form.is_valid():
            device, codes = actions.confirm_totp_enrollment(
                request.user, form.cleaned_data["code"], actor=request.user
            )
            otp_login(request, device)
            messages.success(request, _("Two-factor sign-in is on."))
            return secret_answer(
                render(
                    request,
                    "servicedesk/recovery_codes.html",
                    {"codes": codes, "next": safe_next(request, reverse("home"))},
                )
            )
    except DomainError as error:
        form.add_error("code" if operation == "confirm" else None, str(error))
        status = error.status
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    context = {
        "form": form,
        "device": device,
        "secret": b32encode(device.bin_key).decode() if device else "",
        "required": two_factor.is_required_for(request.user),
        "next": safe_next(request, ""),
    }
    return secret_answer(
        render(request, "servicedesk/two_factor_setup.html", context, status=status)
    )


def _next_query(request: HttpRequest) -> str:
    target = safe_next(request, "")
    return f"?{QueryDict.fromkeys(['next'], target).urlencode()}" if target else ""


@login_required
@require_GET
def two_factor_qr(request: HttpRequest) -> HttpResponse:
    """The key of the authenticator being set up, as a QR code (SVG, from our own origin)."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        raise Http404
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)
    return secret_answer(HttpResponse(svg, content_type="image/svg+xml"))


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=TIME_ZONE_CHOICES)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own page (the account page if that page is not there)."""
    try:
        return redirect(reverse(roles.landing_url_name(request.user)))
    except NoReverseMatch:
        return redirect("account")


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """Language and time zone; the personal API token (regenerated only when confirmed,
    its key shown once, in the answer to that request); two-factor sign-in (set up, new
    recovery codes shown once, switched off where the role allows)."""
    profile = Profile.objects.filter(user=request.user).first()
    initial = {
        "language": profile.language if profile else settings.LANGUAGE_CODE,
        "time_zone": profile.time_zone if profile else settings.DESK_TIME_ZONE,
    }
    form = PreferencesForm(initial=initial)
    new_token_key = ""
    recovery_codes: list[str] = []
    status = 200
    operation = request.POST.get("operation") if request.method == "POST" else None
    if operation == "preferences":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            try:
                profile = actions.update_preferences(request.user, **form.cleaned_data)
            except DomainError as error:
                messages.error(request, str(error))
                status = error.status
            else:
                messages.success(request, _("Your preferences were saved."))
                response = redirect("account")
                # The language cookie wins over the profile (header switcher); keep both equal.
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, profile.language)
                return response
        else:
            status = 400
    elif operation == "token":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Please confirm that the old token may stop working."))
            status = 400
        else:
            new_token_key = actions.regenerate_api_token(request.user).key
            messages.success(
                request, _("Your new API token was created. Copy it now: it is shown only once.")
            )
    elif operation in ("recovery_codes", "two_factor_off"):
        try:
            if operation == "recovery_codes":
                recovery_codes = actions.regenerate_recovery_codes(request.user, actor=request.user)
                messages.success(request, _("New recovery codes: the old ones no longer work."))
            else:
                actions.disable_two_factor(request.user, actor=request.user)
                messages.success(request, _("Two-factor sign-in is off."))
                return redirect("account")
        except DomainError as error:
            messages.error(request, str(error))
            status = error.status
    token = Token.objects.filter(user=request.user).only("created").first()
    response = render(
        request,
        "servicedesk/account.html",
        {
            "form": form,
            "token": token,
            "new_token_key": new_token_key,
            "recovery_codes": recovery_codes,
            "two_factor_on": two_factor.has_two_factor(request.user),
            "two_factor_required": two_factor.is_required_for(request.user),
        },
        status=status,
    )
    return secret_answer(response) if new_token_key or recovery_codes else response
