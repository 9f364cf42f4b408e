"""The error contract every command keeps on a user's mistake: exit status 2, exactly one line
on stderr, starting ``error:`` and naming the flag or file, and no traceback."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from biomedner.cli.main import app

runner = CliRunner()


def invoke(args: list[str]):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, *names: str) -> str:
    """The one ``error:`` line, after checking the contract and that it names each of ``names``."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    # a progress bar drawn before the failure may stand on its own line(s); nothing else may
    lines = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and "%|" not in line.rsplit("\r", 1)[-1]
    ]
    assert len(lines) == 1, result.stderr
    line = lines[0].rsplit("\r", 1)[-1]
    assert line.startswith("error: "), line
    for name in names:
        assert name in line, (name, line)
    return line


def recipe(tmp_path: Path, source_path: str, output_dir: Path) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(
        f"""
output_dir = {json.dumps(str(output_dir))}
[model]
backbone = "unused"
architecture = "uni"
[[stages]]
name = "only"
steps = 1
[[stages.sources]]
kind = "records"
path = {json.dumps(source_path)}
""",
        encoding="utf-8",
    )
    return path
