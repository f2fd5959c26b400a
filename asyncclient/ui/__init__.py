"""The browser UI: built static assets (``static/``) and their source (``frontend/``, not shipped)."""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
