"""A wheel built from this tree works in a new virtual environment, from an empty directory.

What a user gets from `pip install witgen`: the sdist is built from the checkout, the wheel from
the sdist (so both must carry the grammar, the templates and the default contract), and the wheel
is installed (not editable) into a fresh venv without system site-packages; its dependencies come
from PyPI or the pip cache at exactly the versions this suite runs with (pinned from the running
environment by .ci/lock.py's walk: the constrained versions after .ci/install, the newest allowed
ones under .ci/upgrade). Every command then runs from an
empty temporary directory with nothing of the checkout on sys.path, the generated output must be
byte-identical to the checked-in `generated/` (so it does not depend on where witgen is
installed), and the generated Python package loads a plugin on the fast path and calls it.

The environment is built once per test session (about 15 s).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from witgen import backends, frontend, ir
from witgen.paths import DEFAULT_WIT, REPO_ROOT


def _pins_of_this_environment(out: Path) -> Path:
    """A constraints file with the installed version of everything witgen depends on."""
    spec = importlib.util.spec_from_file_location("ci_lock", REPO_ROOT / ".ci" / "lock.py")
    assert spec is not None and spec.loader is not None
    lock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lock)
    found, _missing = lock.pins()
    out.write_text(lock.render(found), encoding="utf-8")
    return out


BIN = "Scripts" if os.name == "nt" else "bin"
# What building the sdist reads (pyproject.toml, setup.py's hook and MANIFEST.in name the rest).
SOURCES = (
    "pyproject.toml",
    "setup.py",
    "MANIFEST.in",
    "README.md",
    "witgen",
    "wit",
    "sdk_templates",
)


@dataclass(frozen=True)
class Fresh:
    venv: Path
    work: Path  # the empty directory every command runs in
    env: dict[str, str]

    def python(self) -> str:
        return str(self.venv / BIN / "python")

    def run(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args),
            cwd=cwd or self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def witgen(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = self.run(str(self.venv / BIN / "witgen"), *args)
        assert "Traceback" not in proc.stderr, proc.stderr
        return proc


def _checked(proc: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"{what} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Fresh:
    base = tmp_path_factory.mktemp("fresh-install")
    dist = base / "dist"
    # The sources a build reads, copied so that building writes nothing into the checkout.
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "_data")
            shutil.copytree(REPO_ROOT / name, src / name, ignore=ignore)
        else:
            shutil.copy2(REPO_ROOT / name, src / name)
    # sdist from the sources, then the wheel from that sdist (what PyPI users install).
    # --no-isolation builds with the installed, pinned setuptools: no download needed.
    _checked(
        subprocess.run(
            [
                sys.executable,
                "-m",
                "build",
                "--no-isolation",
                "--outdir",
                str(dist),
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        ),
        "building the sdist and the wheel",
    )
    (wheel,) = dist.glob("witgen-*.whl")
    venv.EnvBuilder(with_pip=True, system_site_packages=False, clear=True).create(base / "venv")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    env["PATH"] = f"{base / 'venv' / BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONNOUSERSITE"] = "1"
    work = base / "empty"
    work.mkdir()
    fresh = Fresh(base / "venv", work, env)
    pins = _pins_of_this_environment(base / "constraints.txt")
    install = [fresh.python(), "-m", "pip", "install", "-q", "-c", str(pins), str(wheel)]
    _checked(fresh.run(*install), "installing the wheel into a new venv")
    return fresh


def test_the_installed_witgen_is_the_wheel_not_the_checkout(fresh: Fresh) -> None:
    code = "import json, sys, witgen; print(json.dumps([witgen.__file__, sys.path]))"
    where, path = json.loads(_checked(fresh.run(fresh.python(), "-c", code), "import").stdout)
    assert Path(where).resolve().is_relative_to(fresh.venv.resolve()), where
    assert not any(p and Path(p).resolve().is_relative_to(REPO_ROOT) for p in path), path
    assert not any(fresh.work.iterdir()), "the working directory is not empty"


def test_check_and_ir_on_the_embedded_contract(fresh: Fresh) -> None:
    proc = fresh.witgen("check")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    proc = _checked(fresh.witgen("ir", "--json"), "witgen ir --json")
    assert json.loads(proc.stdout) == json.loads(json.dumps(ir.to_json(frontend.load(DEFAULT_WIT))))


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("lang", ["rust", "go", "typescript", "python"])
def test_generate_matches_the_checked_in_output(fresh: Fresh, lang: str) -> None:
    assert lang in backends.available()
    out = fresh.work.parent / "generated" / lang
    _checked(fresh.witgen("generate", "--lang", lang, "--out", str(out)), f"generate {lang}")
    got, want = _tree(out), _tree(REPO_ROOT / "generated" / lang)
    want = {k: v for k, v in want.items() if k in got or not k.endswith((".lock", ".sum"))}
    assert sorted(got) == sorted(want)
    differ = [name for name in got if got[name] != want[name]]
    assert not differ, f"installed witgen writes different {lang} output: {differ}"


def test_compat_runs_its_rules(fresh: Fresh) -> None:
    old = fresh.work.parent / "old.wit"
    new = fresh.work.parent / "new.wit"
    text = (DEFAULT_WIT / "dataflare.wit").read_text(encoding="utf-8")
    old.write_text(text, encoding="utf-8")
    assert "    enabled: func(level: level) -> bool;\n" in text
    new.write_text(text.replace("    enabled: func(level: level) -> bool;\n", ""), "utf-8")
    same = fresh.witgen("compat", str(old), str(old))
    assert same.returncode == 0, same.stderr
    proc = fresh.witgen("compat", str(old), str(new), "--format", "json")
    assert proc.returncode == 1, proc.stderr
    rules = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert "FUNC_REMOVED" in rules


def test_release_writes_every_language(fresh: Fresh) -> None:
    out = fresh.work.parent / "releases"
    _checked(fresh.witgen("release", "--out", str(out)), "witgen release")
    manifest = json.loads((out / "1.0.0" / "release.json").read_text(encoding="utf-8"))
    assert manifest["version"] == "1.0.0"
    assert set(manifest["languages"]) == {"rust", "go", "typescript", "python"}
    # byte for byte what the checkout's witgen releases (archives included)
    here = fresh.work.parent / "releases-from-checkout"
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "release", "--out", str(here)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    got, want = _tree(out), _tree(here)
    assert sorted(got) == sorted(want)
    differ = [name for name in got if got[name] != want[name]]
    assert not differ, f"the installed witgen releases different bytes: {differ}"


def test_broken_install_is_one_line_and_exit_2(fresh: Fresh, tmp_path: Path) -> None:
    # a copy of the installed package with files removed: what a damaged install looks like
    code = "import os, witgen; print(os.path.dirname(witgen.__file__))"
    site = Path(_checked(fresh.run(fresh.python(), "-c", code), "locate witgen").stdout.strip())
    broken = tmp_path / "site"
    shutil.copytree(site, broken / "witgen", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**fresh.env, "PYTHONPATH": str(broken)}
    data = broken / "witgen" / "_data"
    out = str(tmp_path / "out")
    # valid WIT is parsed without the grammar (the recursive-descent fast path); a syntax error
    # needs the exact parser, which reads the grammar
    malformed = tmp_path / "malformed.wit"
    malformed.write_text("package a:b;\ninterface x { f: func( }\n")
    cases = [
        (
            data / "sdk_templates" / "rust" / "lib.rs.j2",
            ["generate", "--lang", "rust", "--out", out],
        ),
        (data / "wit" / "dataflare.wit", ["check"]),  # names the folder: no .wit file left
        (broken / "witgen" / "frontend" / "wit.lark", ["check", str(malformed)]),
    ]
    for missing, args in cases:
        missing.unlink()
        proc = subprocess.run(
            [fresh.python(), "-m", "witgen", *args],
            cwd=fresh.work,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2, proc.stderr
        assert len(lines) == 1, proc.stderr
        named = missing.parent if missing.suffix == ".wit" else missing
        assert f"{named} is " in lines[0] and "reinstall witgen" in lines[0], lines[0]
    # unreadable rather than missing (a folder where the grammar should be; permissions do not
    # stop root, which CI may be)
    grammar = broken / "witgen" / "frontend" / "wit.lark"
    grammar.mkdir()
    proc = subprocess.run(
        [fresh.python(), "-m", "witgen", "check", str(malformed)],
        cwd=fresh.work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"{grammar} is unreadable" in line and "reinstall witgen" in line, line


# Runs inside the fresh venv, in the generated package's folder: load the plugin with the fast
# path required, check that it is the fast path (the core module run directly), call it.
PLUGIN_SCRIPT = """
import json, sys
from dataflare_core import Err, ProcessorPlugin
from dataflare_core.types import DataRecord


class Host:
    def __init__(self):
        self.lines = []

    def log(self, level, message):
        self.lines.append(message)

    def enabled(self, level):
        return True

    def counter_add(self, name, delta):
        pass

    def histogram_record(self, name, value, labels):
        pass

    def get(self, key):
        return None

    def get_int(self, key):
        return Err(None)

    def get_all(self):
        return []


host = Host()
plugin = ProcessorPlugin.load(
    sys.argv[1], logging=host, metrics=host, config=host, cache=False, fast=True
)
record = DataRecord("r1", 7, b"payload", [("k", "v")])
one = plugin.process(record)
batch = plugin.process_batch([record] * 100)
import wasmtime
print(json.dumps({
    "mode": plugin.prepared.mode,
    "one": repr(one),
    "batch": len(batch),
    "same": all(repr(r) == repr(batch[0]) for r in batch),
    "wasmtime": wasmtime.__file__,
    "package": sys.modules["dataflare_core"].__file__,
}))
"""


def _processor(kind: str) -> Path:
    if kind == "wat":
        return REPO_ROOT / "tests" / "python_host" / "guests" / "processor.wat"
    from tests.python_host.rust_plugins import example_components

    return example_components()["processor"]


@pytest.mark.parametrize("kind", ["wat", "rust"])
def test_generated_python_host_runs_a_plugin_on_the_fast_path(
    fresh: Fresh, kind: str, tmp_path: Path
) -> None:
    component = tmp_path / f"processor{_processor(kind).suffix}"
    shutil.copy(_processor(kind), component)
    out = tmp_path / "host"
    _checked(fresh.witgen("generate", "--lang", "python", "--out", str(out)), "generate python")
    proc = _checked(
        fresh.run(fresh.python(), "-c", PLUGIN_SCRIPT, str(component), cwd=out), "the plugin"
    )
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["mode"] == "core", f"not the fast path: {got}"
    assert Path(got["wasmtime"]).resolve().is_relative_to(fresh.venv.resolve())
    assert Path(got["package"]).resolve().is_relative_to(out.resolve())
    assert got["batch"] == 100 and got["same"]
    assert "r1" in got["one"], got["one"]


def _pipeline(tmp: Path, components: dict[str, Path], count: int) -> Path:
    """A pipeline file over the given kind -> component, in order, with the source's `count`."""
    text = "batch_size = 50\n"
    for kind, component in components.items():
        text += f'\n[[stage]]\nkind = "{kind}"\ncomponent = "{component}"\n'
        if kind == "source":
            text += f'config = {{ "source.count" = "{count}" }}\n'
    path = tmp / "pipeline.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_a_pipeline_of_plugins(fresh: Fresh, tmp_path: Path) -> None:
    from tests.python_host.rust_plugins import example_components

    built = example_components()
    components = {}
    for kind in ("source", "processor", "destination"):
        components[kind] = tmp_path / f"{kind}.wasm"
        shutil.copy(built[kind], components[kind])
    pipeline = _pipeline(tmp_path, components, count=120)
    cache = str(tmp_path / "cache")
    proc = _checked(
        fresh.witgen("run", str(pipeline), "-q", "--no-hot-reload", "--cache-dir", cache),
        "witgen run",
    )
    accounting = proc.stdout.splitlines()[0]
    assert accounting.startswith("records in 120 (source 120, splits +0) = out 120 "), accounting
    assert accounting.endswith("summaries written 0") and ": balanced;" in accounting, accounting
    assert not any(fresh.work.iterdir()), "witgen run wrote into the working directory"

    # a component that is not there: bad input, one line at the pipeline file's line, exit 2
    components["processor"] = tmp_path / "missing" / "processor.wasm"
    pipeline = _pipeline(tmp_path, components, count=120)
    proc = fresh.witgen("run", str(pipeline), "-q", "--cache-dir", cache)
    assert proc.returncode == 2, proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert f"{pipeline}:" in line and "missing/processor.wasm does not exist" in line, line


def test_new_scaffolds_from_the_templates_in_the_wheel(fresh: Fresh, tmp_path: Path) -> None:
    # in a folder of its own (not the shared empty one): `new` writes where it runs
    here = tmp_path / "venv-new"
    here.mkdir()
    _checked(
        fresh.run(
            str(fresh.venv / BIN / "witgen"),
            "new",
            "p",
            "--lang",
            "rust",
            "--kind",
            "processor",
            cwd=here,
        ),
        "witgen new",
    )
    checkout = tmp_path / "checkout-new"
    checkout.mkdir()
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "new", "p", "--lang", "rust", "--kind", "processor"],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    got, want = _tree(here / "p"), _tree(checkout / "p")
    assert {"Cargo.toml", "src/lib.rs", "witgen.toml", "sdk/Cargo.toml"} <= set(got), sorted(got)
    assert sorted(got) == sorted(want)
    differ = [name for name in got if got[name] != want[name]]
    assert not differ, f"the installed witgen scaffolds different files: {differ}"
