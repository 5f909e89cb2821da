"""The rule registry: every compatibility rule is one function with a stable ID.

A rule declares what it compares (`target`: "world", "interface", "function", "typedef",
"record", "variant", "enum", "flags", "docs", "added", "package") and the engine calls every
rule of a target for every matched pair of that kind. IDs never change once published: CI
configurations and JSON consumers key on them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from witgen.compat.model import Level, Severity

CheckFn = Callable[..., None]


@dataclass(frozen=True)
class Rule:
    id: str
    category: str  # WORLD, INTERFACE, FUNCTION, TYPE, DOCS, PACKAGE
    target: str
    summary: str
    quiet_level: Level  # the semver weight when the change breaks nobody
    quiet_severity: Severity  # the severity when the change breaks nobody
    check: CheckFn


RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    category: str,
    target: str,
    summary: str,
    level: Level = Level.MINOR,
    severity: Severity = Severity.INFO,
) -> Callable[[CheckFn], CheckFn]:
    def register(fn: CheckFn) -> CheckFn:
        if id in RULES:
            raise ValueError(f"rule {id} is defined twice")
        RULES[id] = Rule(id, category, target, summary, level, severity, fn)
        return fn

    return register


def rules_for(target: str) -> list[Rule]:
    load_all()
    return [r for r in RULES.values() if r.target == target]


def load_all() -> dict[str, Rule]:
    """Import every rule module (they register themselves) and return the registry."""
    from witgen.compat.rules import docs, function, interface, package, types, world  # noqa: F401

    return RULES


def run(target: str, *args: Any) -> None:
    for r in rules_for(target):
        r.check(*args)
