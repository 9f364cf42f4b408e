"""``biomedner serve``: a REST service around one loaded NERModel (extra ``biomedner[serve]``).

Import ``biomedner.serve.app`` for the FastAPI factory; this package itself imports nothing heavy,
so ``import biomedner`` never pulls in FastAPI."""

from __future__ import annotations
