"""Bridges to other libraries (spaCy, ...). Each module imports its library; nothing here is
imported by ``import biomedner``."""

from __future__ import annotations
