"""Fast path of the Python host bindings (placeholder until the generated lift/lower lands)."""

from __future__ import annotations

from typing import Any


def world_class_name(gen: Any, wid: int) -> str | None:
    return None


def generate_module(gen: Any) -> str:
    return gen.render("_fast.py.j2", worlds=[])
