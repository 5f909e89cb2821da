"""Fixtures for the Python host-binding tests: the committed generated package and guests."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from witgen.paths import REPO_ROOT

GENERATED = REPO_ROOT / "generated" / "python"
GUESTS = Path(__file__).parent / "guests"

# The tests exercise exactly the committed output (kept in sync by test_generated_in_sync);
# its bytecode goes under target/ so that generated/ only ever holds generated files.
sys.pycache_prefix = str(REPO_ROOT / "target" / "pycache")
if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))


class RecordingHost:
    """Serves logging, metrics and config for a plugin and remembers what it was asked."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.lines: list[tuple[Any, str]] = []
        self.counters: dict[str, int] = {}
        self.settings = settings or {}

    # logging
    def log(self, level: Any, message: str) -> None:
        self.lines.append((level, message))

    def enabled(self, level: Any) -> bool:
        return True

    # metrics
    def counter_add(self, name: str, delta: int) -> None:
        self.counters[name] = self.counters.get(name, 0) + delta

    def histogram_record(self, name: str, value: float, labels: list[tuple[str, str]]) -> None:
        pass

    # config
    def get(self, key: str) -> str | None:
        return self.settings.get(key)

    def get_int(self, key: str) -> Any:
        from dataflare_core import Err, Ok

        try:
            return Ok(int(self.settings[key]))
        except (KeyError, ValueError):
            return Err(None)

    def get_all(self) -> list[tuple[str, str]]:
        return list(self.settings.items())


@pytest.fixture
def host() -> RecordingHost:
    return RecordingHost()


@pytest.fixture(scope="session")
def processor_wat() -> Path:
    return GUESTS / "processor.wat"
