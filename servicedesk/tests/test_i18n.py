"""The desk speaks German by default and English on request; the catalogue is complete."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tickets.choices import TicketState

pytestmark = pytest.mark.django_db

CATALOGUE = Path(django_settings.BASE_DIR) / "locale" / "de" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def german_default(settings: Any) -> None:
    settings.LANGUAGE_CODE = "de"


def test_the_login_page_is_german_by_default(client: Any, german_default: None) -> None:
    with translation.override(None):
        response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert response.headers["Content-Language"] == "de"
    assert "Anmelden" in response.content.decode()


def test_the_login_page_is_english_on_request(client: Any, german_default: None) -> None:
    with translation.override(None):
        response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")

    assert response.headers["Content-Language"] == "en"
    assert "Sign in" in response.content.decode()


@pytest.mark.parametrize(
    ("state", "german"),
    [
        (TicketState.NEW, "Neu (CM-Triage)"),
        (TicketState.SUPPORT, "SoMe Support (wartet auf Übernahme)"),
        (TicketState.IN_PROGRESS, "In Bearbeitung"),
        (TicketState.WAITING_CUSTOMER, "Wartet auf Kunde (privater Kanal)"),
        (TicketState.WAITING_DEPARTMENT, "Rückfrage Fachabteilung"),
        (TicketState.RESUBMISSION, "Wiedervorlage"),
        (TicketState.RESOLVED, "Gelöst"),
        (TicketState.UNSOLVABLE, "Nicht lösbar (Thema unter Beobachtung)"),
        (TicketState.DISMISSED, "Keine Aktion nötig"),
    ],
)
def test_state_labels_use_the_designs_german_terms(state: TicketState, german: str) -> None:
    with translation.override("de"):
        assert str(state.label) == german


def test_the_german_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(CATALOGUE)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr
    assert "translated messages" in result.stderr
