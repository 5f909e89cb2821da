"""The Python bindings of every valid world of the front end's corpus pass `mypy --strict`.

One mypy run over all of them keeps this fast: each world becomes its own package in one
folder, and each package's copy of the host runtime is a one-line re-export of
`witgen.hostrt` (the runtime is checked once, as part of `mypy --strict witgen`; checking its
76 verbatim copies would take most of a minute). Black's layout does not matter to mypy, so
the packages are generated unformatted. Worlds the backend refuses (an interface with resources
under several names) are counted, and each refusal must name that reason; the
accessor worlds must generate, and so must the async worlds of tests/async/wit and of the
streaming contract (examples/contract-1.1.0), whose packages also get the async runtime.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus_worlds import corpus_worlds
from witgen import backends, frontend, hostrt, ir
from witgen.backends.python import generator
from witgen.diagnostics import UsageError, WitError
from witgen.paths import REPO_ROOT

# What the backend refuses today in the corpus, and why (spec features it does not lower).
REFUSED = ("has resources and is",)
# Async worlds outside the corpus: (WIT, world, whether the backend must generate it)
ASYNC_WORLDS = (
    ("tests/async/wit/broad.wit", "broad", True),
    ("tests/python_host/wit/async_shapes.wit", "async-shapes", True),
    ("tests/python_host/wit/async_sync_imports.wit", "w", True),
    ("tests/python_host/wit/async_wasi.wit", "w", True),
    ("tests/async/wit/edge.wit", "edge", True),  # resources in async functions
    ("tests/async/wit/tally.wit", "tally-guest", True),
    ("tests/python_host/wit/exported_wasi.wit", "command", True),
    ("examples/contract-1.1.0/dataflare.wit", "streaming-source-plugin", True),
    ("examples/contract-1.1.0/dataflare.wit", "streaming-destination-plugin", True),
)
RUNTIME = (*hostrt.FILES, *generator._ASYNC_RUNTIME)


def _worlds() -> list[tuple[Path, ir.Resolve, str, int, bool | None]]:
    """The corpus worlds (None: either way), then the async worlds (must generate or not)."""
    out: list[tuple[Path, ir.Resolve, str, int, bool | None]] = [
        (*w, None) for w in corpus_worlds()
    ]
    for wit, name, must in ASYNC_WORLDS:
        resolve = frontend.load(REPO_ROOT / wit)
        wid = next(i for i, w in enumerate(resolve.worlds) if w.name == name)
        out.append((REPO_ROOT / wit, resolve, name, wid, must))
    return out


def _runtime_stub(module: str) -> str:
    """A module re-exporting the public top-level names of `witgen.hostrt.<module>`."""
    tree = ast.parse((hostrt.HERE / f"{module}.py").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    public = ", ".join(f"{n} as {n}" for n in sorted(names) if not n.startswith("_"))
    return f"from witgen.hostrt.{module} import {public}\n" if public else ""  # private only


def test_corpus_bindings_type_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(generator, "_format_all", lambda files: dict(files))
    generated, refused, generated_labels = [], [], []
    async_generated = 0
    for i, (case, resolve, world, wid, must) in enumerate(_worlds()):
        package = f"corpus{i}"
        options = backends.GenerateOptions(source=case.name, package_name=package)
        try:
            files = generator.generate(resolve, [wid], options)
        except (WitError, UsageError) as exc:
            assert any(word in str(exc) for word in REFUSED), f"{case.name}:{world}: {exc}"
            assert must is not True, f"{case.name}:{world}: {exc}"
            refused.append(f"{case.name}:{world}")
            continue
        assert must is not False, f"{case.name}:{world} should be refused"
        if f"{package}/_asyncvals.py" in files:
            async_generated += 1
        for path, text in files.items():
            if Path(path).name in RUNTIME:
                text = _runtime_stub(Path(path).stem)
            target = tmp_path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        generated.append(package)
        generated_labels.append(f"{case.name}:{world}")
    print(f"{len(generated)} corpus worlds generated, {len(refused)} refused: {refused}")
    assert len(generated) > 70
    accessor_worlds = [w for w in generated_labels if w.startswith("accessors_")]
    assert len(accessor_worlds) == 4, accessor_worlds
    assert async_generated >= 5, async_generated
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null"]
    done = subprocess.run(
        [*mypy, *(f"-p{package}" for package in generated)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "MYPYPATH": str(REPO_ROOT)},  # witgen.hostrt, from this checkout
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
