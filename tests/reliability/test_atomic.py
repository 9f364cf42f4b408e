"""The one atomic writer: the target changes only when the whole content was written."""

from __future__ import annotations

import os

import pytest

from biomedner.io.atomic import atomic_open, atomic_path, write_text_atomic


def test_a_failure_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_open(target) as fh:
        fh.write("half of the new")
        raise RuntimeError("killed")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert os.listdir(tmp_path) == ["out.jsonl"]


def test_text_is_written_exactly_and_permissions_kept(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_text_atomic(target, "a\r\nb\rc\n")
    assert target.read_bytes() == b"a\r\nb\rc\n"
    assert target.stat().st_mode & 0o777 == 0o640


def test_atomic_path_for_writers_that_want_a_name(tmp_path):
    target = tmp_path / "model.safetensors"
    with pytest.raises(OSError), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError("disk full")
    assert not target.exists() and os.listdir(tmp_path) == []
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"


def test_a_missing_folder_is_not_created(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_text_atomic(tmp_path / "missing" / "out.txt", "x")
    assert not (tmp_path / "missing").exists()
