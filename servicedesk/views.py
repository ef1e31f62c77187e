"""Browser pages of the desk itself: sign-in (people only), the landing redirect by role and
the account page (language, time zone, personal API token)."""

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.authtoken.models import Token

from servicedesk import actions, roles
from servicedesk.errors import DomainError
from servicedesk.models import TIME_ZONE_CHOICES, Profile


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
    its key shown once, in the answer to that request)."""
    profile = Profile.objects.filter(user=request.user).first()
    initial = {
        "language": profile.language if profile else settings.LANGUAGE_CODE,
        "time_zone": profile.time_zone if profile else settings.DESK_TIME_ZONE,
    }
    form = PreferencesForm(initial=initial)
    new_token_key = ""
    status = 200
    if request.method == "POST" and request.POST.get("operation") == "preferences":
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
    elif request.method == "POST" and request.POST.get("operation") == "token":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Please confirm that the old token may stop working."))
            status = 400
        else:
            new_token_key = actions.regenerate_api_token(request.user).key
            messages.success(
                request, _("Your new API token was created. Copy it now: it is shown only once.")
            )
    token = Token.objects.filter(user=request.user).only("created").first()
    return render(
        request,
        "servicedesk/account.html",
        {"form": form, "token": token, "new_token_key": new_token_key},
        status=status,
    )
