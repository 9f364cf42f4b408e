"""The error contract every command keeps on a user's mistake: exit status 2, exactly one line
on stderr, starting ``error:`` and naming the flag or file, and no traceback."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from biomedner.cli.main import app

runner = CliRunner()
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def invoke(args: list[str]):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, *names: str) -> str:
    """The one ``error:`` line, after checking the contract and that it names each of ``names``."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    # progress bars drawn before the failure may stand on their own lines; nothing else may
    lines = []
    for raw in result.stderr.splitlines():
        parts = [_ANSI.sub("", part).strip() for part in raw.split("\r")]
        parts = [part for part in parts if part and "%|" not in part]
        lines.extend(parts)
    assert len(lines) == 1, result.stderr
    line = lines[0]
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
