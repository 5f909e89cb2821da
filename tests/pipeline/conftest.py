"""Fixtures for the `witgen run` tests: the Rust example plugins and a pipeline-file writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from tests.python_host.rust_plugins import example_components


@pytest.fixture(scope="session")
def rust() -> dict[str, Path]:
    return example_components()


def stage_toml(kind: str, component: Path, **extra: Any) -> str:
    lines = ["[[stage]]", f'kind = "{kind}"', f'component = "{component}"']
    tables = {}
    for key, value in extra.items():
        if isinstance(value, dict) and key in ("limits", "wasi"):
            tables[key] = value
        else:
            lines.append(f"{key} = {_toml(value)}")
    for name, table in tables.items():
        lines.append(f"[stage.{name}]")
        lines.extend(f"{k} = {_toml(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


@pytest.fixture
def write_pipeline(tmp_path: Path, rust: dict[str, Path]) -> Callable[..., Path]:
    """A pipeline file: the Rust source (`count` records), the given middle stages, the Rust
    destination; `top` is prepended (keys, dead-letter sinks...)."""

    def write(
        *middle: str,
        count: int = 300,
        batch: int = 50,
        top: str = "",
        tail: str = "",
        destination: dict[str, Any] | None = None,
    ) -> Path:
        text = f"batch_size = {batch}\n" + top
        text += stage_toml("source", rust["source"], config={"source.count": str(count)})
        text += "".join(middle)
        text += stage_toml("destination", rust["destination"], **(destination or {}))
        text += tail
        path = tmp_path / "pipeline.toml"
        path.write_text(text)
        return path

    return write


def spy_destination(pipeline: Any) -> list[Any]:
    """The records the pipeline hands to its destination, in the order it hands them over."""
    seen: list[Any] = []
    pipeline.arrow = False  # the tap sees typed `write_batch` calls (not Arrow batches)
    stage = pipeline.stages[-1]
    call = stage.call

    class Tap:
        def __init__(self, inst: Any) -> None:
            self._inst = inst

        def write_batch(self, records: list[Any]) -> Any:
            seen.extend(records)
            return self._inst.write_batch(records)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inst, name)

    stage.call = lambda n, fn: call(n, lambda inst: fn(Tap(inst)))
    return seen


def run_with_processor(
    tmp_path: Path, rust: dict[str, Path], processor: Path, count: int, config: dict[str, str]
) -> tuple[Any, list[Any]]:
    """source -> `processor` -> filter -> transformer -> aggregator -> destination, run to the end."""
    from witgen.pipeline import contract as contract_mod
    from witgen.pipeline import spec as spec_mod
    from witgen.pipeline.runtime import Pipeline
    from witgen.paths import REPO_ROOT

    text = "batch_size = 64\n" + stage_toml(
        "source", rust["source"], config={"source.count": str(count)}
    )
    text += stage_toml("processor", processor, config=config)
    for kind in ("filter", "transformer", "aggregator", "destination"):
        text += stage_toml(kind, rust[kind])
    path = tmp_path / "pipeline.toml"
    path.write_text(text)
    spec = spec_mod.load(path)
    cache = REPO_ROOT / "target" / "pipeline-tests" / "cache"
    p = Pipeline(spec, contract_mod.load(None), cache_dir=cache, hot_reload=False)
    p.load()
    seen = spy_destination(p)
    p.run()
    return p, seen
