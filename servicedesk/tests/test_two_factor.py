"""Issue 18, point 3: two-factor sign-in (django-otp, TOTP) with recovery codes; required for
superusers and team leads while TWO_FACTOR_REQUIRED is on, optional for everyone else."""

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from servicedesk import actions
from servicedesk.errors import NotAllowedForRole
from tickets.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def required(settings: Any) -> None:
    settings.TWO_FACTOR_REQUIRED = True


def password_sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def set_up(user: Any) -> tuple[TOTPDevice, list[str]]:
    device = actions.start_totp_enrollment(user, actor=user)
    return actions.confirm_totp_enrollment(user, current_code(device), actor=user)


def test_a_team_lead_must_set_up_a_second_factor_before_the_desk_opens(
    required: None, team_lead: Any
) -> None:
    client = password_sign_in("team_lead")

    page = client.get("/dashboard/")
    api = client.get("/api/v1/tickets/")

    assert page.status_code == 302
    assert page["Location"] == "/account/two-factor/setup/?next=%2Fdashboard%2F"
    assert api.status_code == 403
    assert api.json()["code"] == "two_factor_required"


def test_setting_up_shows_the_key_once_then_recovery_codes_and_opens_the_desk(
    required: None, team_lead: Any
) -> None:
    client = password_sign_in("team_lead")

    started = client.post(
        "/account/two-factor/setup/", {"operation": "start", "next": "/dashboard/"}
    )
    page = client.get(started["Location"])
    qr = client.get("/account/two-factor/qr.svg")
    device = TOTPDevice.objects.get(user=team_lead)
    confirmed = client.post(
        "/account/two-factor/setup/",
        {"operation": "confirm", "code": current_code(device), "next": "/dashboard/"},
    )

    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert qr["Content-Type"] == "image/svg+xml" and "no-store" in qr["Cache-Control"]
    assert confirmed.status_code == 200 and "no-store" in confirmed["Cache-Control"]
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", confirmed.content.decode())
    assert len(codes) == 10
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/dashboard/").status_code == 200


def test_with_a_second_factor_the_password_alone_does_not_open_the_desk(team_lead: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        device, _codes = set_up(team_lead)
    # Later steps of the app: a code is good once, and a wrong code makes the next try wait.
    with time_machine.travel(start + timedelta(minutes=1), tick=False):
        client = password_sign_in("team_lead")
        held = client.get("/dashboard/")
        wrong = client.post("/accounts/two-factor/", {"code": "000000", "next": "/dashboard/"})
    with time_machine.travel(start + timedelta(minutes=2), tick=False):
        right = client.post(
            "/accounts/two-factor/", {"code": current_code(device), "next": "/dashboard/"}
        )

    assert held["Location"] == "/accounts/two-factor/?next=%2Fdashboard%2F"
    assert wrong.status_code == 400
    assert "The code is not valid" in wrong.content.decode()
    assert right.status_code == 302 and right["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_a_recovery_code_signs_in_once(team_lead: Any) -> None:
    _device, codes = set_up(team_lead)

    first = password_sign_in("team_lead").post("/accounts/two-factor/", {"code": codes[0].upper()})
    again = password_sign_in("team_lead").post("/accounts/two-factor/", {"code": codes[0]})

    assert first.status_code == 302
    assert again.status_code == 400


def test_the_admin_login_asks_for_the_second_factor_too(required: None) -> None:
    UserFactory(username="root", is_superuser=True, is_staff=True)
    client = Client()
    client.post("/admin/login/", {"username": "root", "password": PASSWORD})

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/setup/")


def test_an_agent_signs_in_with_the_password_only_unless_he_switched_it_on(
    required: None, agent: Any
) -> None:
    assert password_sign_in("agent").get("/queue/").status_code == 200

    set_up(agent)

    assert password_sign_in("agent").get("/queue/").status_code == 302


def test_an_agent_may_switch_it_off_a_team_lead_may_not(
    required: None, agent: Any, team_lead: Any
) -> None:
    set_up(agent)
    set_up(team_lead)

    actions.disable_two_factor(agent, actor=agent)

    assert not TOTPDevice.objects.filter(user=agent).exists()
    with pytest.raises(NotAllowedForRole):
        actions.disable_two_factor(team_lead, actor=team_lead)
    assert TOTPDevice.objects.filter(user=team_lead, confirmed=True).exists()


def test_new_recovery_codes_replace_the_old_ones_and_are_not_cached(agent: Any) -> None:
    _device, old_codes = set_up(agent)
    client = password_sign_in("agent")
    client.post("/accounts/two-factor/", {"code": old_codes[0]})

    response = client.post("/account/", {"operation": "recovery_codes"})

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new_codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    assert (
        password_sign_in("agent").post("/accounts/two-factor/", {"code": old_codes[1]}).status_code
        == 400
    )


def test_with_the_setting_off_a_team_lead_is_not_asked(team_lead: Any, settings: Any) -> None:
    settings.TWO_FACTOR_REQUIRED = False

    assert password_sign_in("team_lead").get("/dashboard/").status_code == 200


def test_an_api_token_is_not_held_at_the_second_factor(required: None, team_lead: Any) -> None:
    from servicedesk.tests.apiclient import client_for

    response = client_for(team_lead).get("/api/v1/tickets/")

    assert response.status_code == 200
