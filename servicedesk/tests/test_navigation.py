"""The navigation's links: a URL name that does not exist is an error, not a missing link."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import NoReverseMatch


def _render(source: str) -> str:
    request = RequestFactory().get("/inbox/")
    return Template("{% load desk %}" + source).render(Context({"request": request}))


def test_a_navigation_link_points_to_its_page() -> None:
    html = _render('{% nav_link "tickets:inbox" "Inbox" "i" %}')

    assert html == '<a class="nav-link" href="/inbox/" data-shortcut="i">Inbox</a>'


def test_a_navigation_link_to_an_unknown_page_is_an_error() -> None:
    with pytest.raises(NoReverseMatch):
        _render('{% nav_link "tickets:no_such_page" "Nowhere" %}')
