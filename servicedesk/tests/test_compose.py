"""docker-compose.yml stays in step with settings.py and with what `./desk run` starts.

No Docker engine is needed: the file is parsed with PyYAML and compared with the sources.
"""

import importlib
import re
import shlex
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent.parent
SERVICES = ("postgres", "redis", "web", "worker", "beat")
DESK_SERVICES = ("web", "worker", "beat")
CORE_VARIABLES = {
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "FIELD_ENCRYPTION_KEY",
}
SETTINGS_READS = re.compile(
    r"""(?:os\.environ\.get|os\.getenv|env_bool|env_int|env_list)\(\s*["']([A-Z0-9_]+)["']"""
    r"""|os\.environ\[\s*["']([A-Z0-9_]+)["']\s*\]"""
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    with (ROOT / "docker-compose.yml").open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


@pytest.fixture(scope="module")
def desk() -> ModuleType:
    """bin/desklib/commands.py (what `./desk run` starts), with bin/ on sys.path meanwhile as
    bin/desk.py has it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(ROOT / "bin"))
        return importlib.import_module("desklib.commands")


def variables_read_by_settings() -> set[str]:
    source = (ROOT / "servicedesk" / "settings.py").read_text(encoding="utf-8")
    return {name for match in SETTINGS_READS.finditer(source) for name in match.groups() if name}


def command_words(service: dict[str, Any]) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def healthcheck_python(service: dict[str, Any]) -> str | None:
    """The code of a `python -c` healthcheck, if the service has one."""
    test = service["healthcheck"]["test"]
    if isinstance(test, list) and test[:3] == ["CMD", "python", "-c"]:
        return str(test[3])
    return None


def test_all_five_services_exist_and_each_has_a_healthcheck(compose: dict[str, Any]) -> None:
    services = compose["services"]

    assert set(SERVICES) <= set(services)
    for name in SERVICES:
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_desk_processes_share_one_environment_anchor(compose: dict[str, Any]) -> None:
    anchor = compose["x-desk-env"]

    for name in DESK_SERVICES:
        # PyYAML builds an aliased node once: the same object means `environment: *desk-env`.
        assert compose["services"][name]["environment"] is anchor, name


def test_every_compose_variable_is_read_by_settings(compose: dict[str, Any]) -> None:
    read = variables_read_by_settings()
    names = {
        variable
        for service in DESK_SERVICES
        for variable in compose["services"][service]["environment"]
    }

    assert CORE_VARIABLES <= read, "the regex no longer finds the core settings"
    assert names - read == set(), "compose sets variables that settings.py never reads"
    assert CORE_VARIABLES <= names, "compose leaves out core variables"


def test_secrets_must_be_given_and_are_never_defaulted(compose: dict[str, Any]) -> None:
    environment = compose["x-desk-env"]

    assert environment["SECRET_KEY"] == "${SECRET_KEY:?set SECRET_KEY}"
    assert (
        environment["FIELD_ENCRYPTION_KEY"] == "${FIELD_ENCRYPTION_KEY:?set FIELD_ENCRYPTION_KEY}"
    )


def test_app_services_wait_for_healthy_database_and_broker(compose: dict[str, Any]) -> None:
    for name in DESK_SERVICES:
        depends_on = compose["services"][name]["depends_on"]
        for needed in ("postgres", "redis"):
            assert depends_on[needed]["condition"] == "service_healthy", (name, needed)


def test_celery_commands_match_what_desk_run_starts(
    compose: dict[str, Any], desk: ModuleType
) -> None:
    started = desk.stack_commands(8000)

    for name in ("worker", "beat"):
        assert command_words(compose["services"][name])[:4] == started[name][:4]
        assert started[name][:4] == ["celery", "-A", "servicedesk", name]


def test_web_runs_gunicorn_with_the_project_wsgi_module(
    compose: dict[str, Any], desk: ModuleType
) -> None:
    script = command_words(compose["services"]["web"])[-1]

    assert "gunicorn servicedesk.wsgi" in script
    assert "manage.py migrate --noinput" in script
    assert desk.stack_commands(8000)["web"][:2] == ["gunicorn", "servicedesk.wsgi"]


@pytest.mark.parametrize("name", ["web", "beat"])
def test_python_healthchecks_are_valid_python(compose: dict[str, Any], name: str) -> None:
    code = healthcheck_python(compose["services"][name])

    assert code is not None
    compile(code, f"{name} healthcheck", "exec")
