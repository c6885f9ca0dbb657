"""The portal's commands: ``backoffice users add`` / ``users token`` (and ``serve`` exists)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from backoffice.cli import app
from backoffice.config import Settings
from backoffice.db import open_catalog
from backoffice.models import ApiToken, Role, User
from backoffice.portal.auth import token_hash, verify_password

runner = CliRunner()


def test_users_add_and_token(tmp_path: Path) -> None:
    var = str(tmp_path / "var")
    env = {"COLUMNS": "200"}
    assert (
        runner.invoke(app, ["clients", "add", "KLEIN", "Klein GmbH", "--var", var]).exit_code == 0
    )
    added = runner.invoke(
        app,
        [
            "users",
            "add",
            "Anna@Klein.example",
            "--role",
            "client",
            "--client",
            "KLEIN",
            "--password",
            "geheim-genug-123",
            "--name",
            "Anna",
            "--var",
            var,
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    missing = runner.invoke(
        app,
        [
            "users",
            "add",
            "x@y.example",
            "--role",
            "client",
            "--password",
            "geheim-genug-123",
            "--var",
            var,
        ],
        env=env,
    )
    assert missing.exit_code != 0 and "Mandantenkürzel" in missing.output
    short = runner.invoke(
        app,
        ["users", "add", "s@y.example", "--role", "staff", "--password", "kurz", "--var", var],
        env=env,
    )
    assert short.exit_code != 0 and "mindestens" in short.output
    issued = runner.invoke(app, ["users", "token", "anna@klein.example", "--var", var], env=env)
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    assert token.startswith("bo_")
    catalog = open_catalog(Settings(var_dir=Path(var)))
    with catalog.session() as s:
        user = s.scalars(select(User)).one()
        assert (user.email, user.role, [c.code for c in user.clients]) == (
            "anna@klein.example",
            Role.CLIENT,
            ["KLEIN"],
        )
        assert verify_password(user.password_hash, "geheim-genug-123")
        assert s.scalars(select(ApiToken.token_hash)).one() == token_hash(token)
    assert "serve" in runner.invoke(app, ["--help"], env=env).output
