"""The staff's social media guidelines page: read by all desk staff in their language,
edited by team leads (guidelines.actions.update_guideline_page)."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from guidelines import actions
from guidelines.models import GuidelinePage
from servicedesk import roles
from servicedesk.errors import DomainError
from servicedesk.web import desk_staff_required, role_required

GUIDELINES_MAX_LENGTH = 50_000  # characters


class GuidelinePageForm(forms.Form):
    language = forms.ChoiceField(label=gettext_lazy("Language"), choices=settings.LANGUAGES)
    body = forms.CharField(
        label=gettext_lazy("Text"),
        max_length=GUIDELINES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=gettext_lazy("Plain text; a blank line starts a new paragraph."),
    )


def current_language() -> str:
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@desk_staff_required
@require_GET
def guidelines_page(request: HttpRequest) -> HttpResponse:
    """The page in the user's language (the other language's page if this one is missing)."""
    language = current_language()
    pages = {page.language: page for page in GuidelinePage.objects.select_related("updated_by")}
    page = pages.get(language) or next(iter(pages.values()), None)
    return render(
        request,
        "guidelines/page.html",
        {"page": page, "may_edit": roles.is_team_lead(request.user) or request.user.is_superuser},
    )


@role_required(roles.is_team_lead)
@require_http_methods(["GET", "POST"])
def guidelines_page_edit(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = GuidelinePageForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                actions.update_guideline_page(
                    form.cleaned_data["language"], form.cleaned_data["body"], actor=request.user
                )
            except DomainError as error:
                messages.error(request, str(error.detail))
                status = error.status
            else:
                messages.success(request, _("The guidelines were saved."))
                return redirect("guidelines:page")
        return render(request, "guidelines/page_edit.html", {"form": form}, status=status)
    language = request.GET.get("language")
    if language not in dict(settings.LANGUAGES):
        language = current_language()
    page = GuidelinePage.objects.filter(language=language).first()
    form = GuidelinePageForm(initial={"language": language, "body": page.body if page else ""})
    return render(request, "guidelines/page_edit.html", {"form": form, "language": language})
