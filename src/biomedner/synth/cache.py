"""Annotation cache: one SQLite row per (prompt, model, text) answer.

The key is a hash of the prompt id (version plus a digest of the template files), the model
name, the candidate-hint mode and the SHA-256 of the text. Each successful answer is committed as
soon as it is parsed, so a run killed at any moment (even SIGKILL) loses at most the requests in
flight; a restarted run finds every committed answer and never asks the server for it again.
SQLite's journal keeps the file consistent across kills; WAL mode lets readers (a progress check,
a second process) look while a run writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    key TEXT PRIMARY KEY,
    prompt TEXT NOT NULL,
    model TEXT NOT NULL,
    text_sha256 TEXT NOT NULL,
    entities TEXT NOT NULL,
    parse_kind TEXT NOT NULL,
    raw TEXT NOT NULL,
    finish_reason TEXT,
    attempts INTEGER NOT NULL,
    created REAL NOT NULL
)
"""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(prompt_id: str, model: str, text: str, variant: str = "") -> str:
    blob = json.dumps([prompt_id, model, variant, text_sha256(text)])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class AnnotationCache:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> AnnotationCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0])

    def has(self, key: str) -> bool:
        return (
            self._db.execute("SELECT 1 FROM answers WHERE key = ?", (key,)).fetchone() is not None
        )

    def get(self, key: str) -> list[dict[str, str]] | None:
        row = self._db.execute("SELECT entities FROM answers WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def get_row(self, key: str) -> dict[str, Any] | None:
        cur = self._db.execute("SELECT * FROM answers WHERE key = ?", (key,))
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c[0] for c in cur.description], row, strict=True))

    def put(
        self,
        key: str,
        *,
        prompt: str,
        model: str,
        text: str,
        entities: list[dict[str, str]],
        parse_kind: str,
        raw: str,
        finish_reason: str | None,
        attempts: int,
    ) -> None:
        # autocommit mode: the row is durable when execute() returns
        self._db.execute(
            "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                prompt,
                model,
                text_sha256(text),
                json.dumps(entities, ensure_ascii=False),
                parse_kind,
                raw,
                finish_reason,
                attempts,
                time.time(),
            ),
        )
