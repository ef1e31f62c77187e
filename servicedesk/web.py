"""Helpers every app's HTML views share: role decorators, safe redirects, form errors, the
client's address."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from servicedesk import roles
from servicedesk.errors import NotAllowedForRole


def desk_staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in CMs, agents, team leads and superusers; everyone else gets a 404 (experts
    and api clients may not even learn that a ticket exists)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (roles.is_desk_staff(request.user) or request.user.is_superuser):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def role_required(
    *predicates: Callable[[Any], bool],
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Desk staff with one of the given roles (or a superuser); other staff get a 403 page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @desk_staff_required
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not (user.is_superuser or any(predicate(user) for predicate in predicates)):
                return render(
                    request,
                    "servicedesk/forbidden.html",
                    {"detail": NotAllowedForRole().detail},
                    status=403,
                )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` field of a form if it points into this site, else `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def form_error_text(form: Any) -> str:
    """All errors of a form as one line (for a message)."""
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        prefix = f"{label or field}: " if field != "__all__" else ""
        parts.append(prefix + " ".join(str(error) for error in errors))
    return "; ".join(parts)


def client_address(request: HttpRequest) -> str:
    """The client's IP address: the connection's, or behind TRUSTED_PROXIES proxies the one
    the outermost of them put into X-Forwarded-For (entries further left are the client's
    own word and can be forged). The same rule as DRF's NUM_PROXIES for the API throttle."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    return addresses[-min(proxies, len(addresses))] if addresses else remote


def secret_answer(response: HttpResponse) -> HttpResponse:
    """An answer that shows a secret (a new API token, a webhook signing secret, an
    authenticator key, recovery codes) must not be kept by any cache or proxy:
    `Cache-Control: no-store` (with no-cache, must-revalidate, private and max-age=0)."""
    add_never_cache_headers(response)
    return response


# Access audit (issue 15): a view notes which customers and tickets it showed; the privacy
# app's middleware writes the notes in one INSERT after the answer went out. Pages whose URL
# names the customer or ticket (customer page, ticket page) are noted by the middleware.
ACCESS_NOTES_ATTRIBUTE = "_access_notes"


def note_access(
    request: HttpRequest, kind: str, *, customer_ids: Any = (), ticket_id: int | None = None
) -> None:
    """Record that `request` showed these customers (kind: "search", "export", …)."""
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    notes = getattr(request, ACCESS_NOTES_ATTRIBUTE, None)
    if notes is None:
        notes = []
        setattr(request, ACCESS_NOTES_ATTRIBUTE, notes)
    for customer_id in customer_ids or (None,):
        notes.append((kind, customer_id, ticket_id))


# A list's count stops at LIST_COUNT_CAP: counting a state of 200,000 tickets reads 200,000
# index entries (20 ms and more) on every page view, for a badge that says "1,000+" as well.
# Pages go as far as the cap (40 pages of 25); the lists are in urgency order.
LIST_COUNT_CAP = 1_000


def capped_count(queryset: Any) -> int:
    """The number of rows of `queryset`, counting no further than LIST_COUNT_CAP + 1 (more
    than the cap: shown as "1,000+" by the `list_count` filter)."""
    return queryset[: LIST_COUNT_CAP + 1].count()


PAGE_SIZES = (25, 50, 100)  # the page sizes a list offers (issue 17)
PAGE_SIZE_PARAM = "per_page"


def page_size(request: HttpRequest, list_name: str, default: int = PAGE_SIZES[0]) -> int | None:
    """The page size of a list: `?per_page=` when it is one of PAGE_SIZES (then remembered in
    the session for this list), else the remembered one, else `default`. None for a
    `per_page` that is not offered (the view answers 400 and remembers nothing)."""
    key = f"page_size:{list_name}"
    given = request.GET.get(PAGE_SIZE_PARAM)
    if given is not None:
        size = int(given) if given.isdigit() else None
        if size not in PAGE_SIZES:
            return None
        if request.session.get(key) != size:
            request.session[key] = size
        return size
    remembered = request.session.get(key)
    return remembered if remembered in PAGE_SIZES else default


def page_size_refused() -> HttpResponse:
    sizes = ", ".join(str(size) for size in PAGE_SIZES)
    return HttpResponse(
        _("The page size must be one of %(sizes)s.") % {"sizes": sizes},
        status=400,
        content_type="text/plain; charset=utf-8",
    )
