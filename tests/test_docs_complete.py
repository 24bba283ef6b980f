"""Documentation that cannot fall behind the code: every setting, role, permission and
CLI command is named in docs/ (datasette keeps its docs honest the same way)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from passtrace.cli.main import app
from passtrace.core.config import Settings
from passtrace.core.security import ROLE_PERMISSIONS, ROLES

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _commands(command: Any, prefix: list[str]) -> list[str]:
    if hasattr(command, "list_commands"):
        return [path for name in command.list_commands(None)
                for path in _commands(command.get_command(None, name), [*prefix, name])]
    return [" ".join(prefix)]


ALL_COMMANDS = _commands(get_command(app), ["passtrace"])
PERMISSIONS = sorted({p for perms in ROLE_PERMISSIONS.values() for p in perms} - {"*"})


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_documented(field: str) -> None:
    assert f"`PASSTRACE_{field.upper()}`" in _doc("configuration.md"), (
        f"PASSTRACE_{field.upper()} is missing from docs/configuration.md")


@pytest.mark.parametrize("role", ROLES)
def test_every_role_is_documented(role: str) -> None:
    assert f"| `{role}` |" in _doc("roles.md"), f"role {role} is missing from docs/roles.md"


@pytest.mark.parametrize("permission", PERMISSIONS)
def test_every_permission_is_explained(permission: str) -> None:
    assert f"| `{permission}` |" in _doc("roles.md"), (
        f"permission {permission} is not explained in docs/roles.md")


def test_the_role_table_matches_the_code() -> None:
    text = _doc("roles.md")
    for role, permissions in ROLE_PERMISSIONS.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| `{role}` |"))
        listed = {p.strip(" `") for p in row.split("|")[3].split(",")} - {""}
        expected = {"every permission (`*`)"} if "*" in permissions else set(permissions)
        if "*" in permissions:
            assert "`*`" in row
        elif permissions:
            assert listed == expected, f"docs/roles.md lists other permissions for {role}"
        else:
            assert "none" in row


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_every_cli_command_is_documented(command: str) -> None:
    assert f"`{command}`" in _doc("cli.md"), f"{command} is missing from docs/cli.md"


def test_the_command_walk_sees_subcommands() -> None:
    # Guards the guard: a walk that found only the root would pass every check above.
    assert "passtrace db upgrade" in ALL_COMMANDS and len(ALL_COMMANDS) > 10
