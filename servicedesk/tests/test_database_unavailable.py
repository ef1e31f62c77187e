"""DatabaseUnavailableMiddleware: a request that fails because PostgreSQL is unreachable
answers a clear 503, not a 500.

The outage is simulated by making the database cursor raise OperationalError for one
request (the only fake here: faults/drill_c_postgres_restart.py restarts a real server).
"""

from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from servicedesk.tests.apiclient import client_for

pytestmark = pytest.mark.django_db

CURSOR_EXECUTE = "django.db.backends.utils.CursorWrapper.execute"


def database_down() -> mock._patch:
    return mock.patch(
        CURSOR_EXECUTE,
        side_effect=OperationalError("server closed the connection unexpectedly"),
    )


def test_api_answers_503_in_the_error_format_while_the_database_is_down(agent):
    client = client_for(agent)

    with database_down():
        response = client.get("/api/v1/tickets/")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "service_unavailable"
    assert response.json()["errors"] == {}
    assert response["Retry-After"] == "5"


def test_html_page_answers_a_plain_503_while_the_database_is_down(agent):
    client = Client(raise_request_exception=False)
    client.force_login(agent)

    with database_down():
        response = client.get("/")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")


def test_the_next_request_after_the_outage_is_served(agent):
    client = client_for(agent)
    with database_down():
        client.get("/api/v1/tickets/")

    response = client.get("/api/v1/tickets/")

    assert response.status_code == 200
