"""The committed generated package type-checks with mypy --strict and is black-formatted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.python_host.conftest import GENERATED


def test_mypy_strict_is_clean() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--cache-dir",
            "/dev/null",
            "dataflare_core",
        ],
        cwd=GENERATED,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_black_check_is_clean(tmp_path: Path) -> None:
    # With black's defaults, as a user of the package would run it: the repository's own
    # configuration excludes generated/ (and uses another line length).
    config = tmp_path / "black.toml"
    config.write_text("[tool.black]\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "black", "--check", "--config", str(config), "dataflare_core"],
        cwd=GENERATED,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "left unchanged" in proc.stderr  # black found the files (none excluded)


def test_runtime_files_are_witgen_hostrt_verbatim() -> None:
    from witgen import hostrt

    for name in hostrt.FILES:
        copied = (GENERATED / "dataflare_core" / name).read_bytes()
        assert copied == (hostrt.HERE / name).read_bytes(), name
    version = (GENERATED / "dataflare_core" / "_version.py").read_text(encoding="utf-8")
    assert f'WASMTIME_REQUIREMENT = "{hostrt.WASMTIME_REQUIREMENT}"' in version


def test_package_has_py_typed() -> None:
    assert (GENERATED / "dataflare_core" / "py.typed").is_file()


def test_package_imports_without_witgen() -> None:
    # A fresh interpreter with only the generated package on the path (no repo root).
    code = (
        "import sys; sys.path = [p for p in sys.path if p not in ('', '.')];"
        "import dataflare_core, dataflare_core.processor_plugin;"
        "assert 'witgen' not in sys.modules"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-B",
            "-c",
            f"import sys; sys.path.insert(0, {str(GENERATED)!r}); {code}",
        ],
        capture_output=True,
        text=True,
        cwd="/",
    )
    assert proc.returncode == 0, proc.stderr


def test_fast_module_defines_no_dead_helpers() -> None:
    import ast

    source = (GENERATED / "dataflare_core" / "_fast.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    defined: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("_"):
            defined.append(node.name)
        elif isinstance(node, ast.Assign):
            defined += [t.id for t in node.targets if isinstance(t, ast.Name)]
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    dead = [name for name in defined if name.startswith("_") and name not in used]
    assert dead == []
    imported = [
        a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names
    ]
    assert [name for name in imported if name not in used and name != "annotations"] == []
