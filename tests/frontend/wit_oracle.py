"""wasm-tools as a differential oracle for the WIT front end, shared by the tests/frontend suite.

Runs `wasm-tools component wit [--json]` (cached per process: every test module asks about the
same corpus), pulls the error location out of its stderr, and lists the inputs worth comparing:
the hand-written corpus under `corpus/` and real-world WIT packages installed on the machine
(never copied into the repo).
"""

from __future__ import annotations

import functools
import glob
import hashlib
import inspect
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from witgen import frontend
from witgen.diagnostics import Span, WitError, WitErrors, WitgenError

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = HERE / "corpus"
VALID = CORPUS / "valid"
INVALID = CORPUS / "invalid"

# Until the native front end lands, `frontend.load` shells out to wasm-tools and its errors
# carry no span; location checks are then expected failures rather than real ones.
FRONTEND_IS_WASM_TOOLS_SHIM = "subprocess" in inspect.getsource(frontend)

FEATURES_MARKER = re.compile(r"^//\s*test-features:\s*(.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Mode:
    """One way of loading an input: default, `--all-features`, or named features."""

    name: str
    features: frozenset[str] = frozenset()
    all_features: bool = False

    def flags(self) -> list[str]:
        if self.all_features:
            return ["--all-features"]
        if self.features:
            return ["--features", ",".join(sorted(self.features))]
        return []


DEFAULT = Mode("default")
ALL_FEATURES = Mode("all-features", all_features=True)


@dataclass(frozen=True)
class Location:
    file: Path
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class OracleResult:
    ok: bool
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def locations(self) -> list[Location]:
        return parse_locations(self.stderr)


def wasm_tools_exe() -> str:
    exe = shutil.which("wasm-tools")
    if exe is None:
        raise RuntimeError("wasm-tools is not installed")
    return exe


@functools.lru_cache(maxsize=None)
def wasm_tools(path: Path, mode: Mode = DEFAULT, as_json: bool = True) -> OracleResult:
    """`wasm-tools component wit [--json] PATH`, run once per (path, mode) in a process.

    Answers are also kept on disk (target/frontend-tests/oracle/), keyed by the wasm-tools
    version, the arguments and the bytes of every file under PATH, so that re-running the
    suite while working on the front end does not pay for hundreds of subprocesses again."""
    cmd = [wasm_tools_exe(), "component", "wit"]
    if as_json:
        cmd.append("--json")
    cmd += [str(path), *mode.flags()]
    cache = scratch_dir("oracle") / f"{_cache_key(path, cmd[1:])}.json"
    try:
        saved = json.loads(cache.read_text(encoding="utf-8"))
        return OracleResult(saved["ok"], saved["stdout"], saved["stderr"])
    except (OSError, ValueError, KeyError):
        pass
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_quiet_env())
    result = OracleResult(proc.returncode == 0, proc.stdout, proc.stderr)
    tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(result.__dict__), encoding="utf-8")
    tmp.replace(cache)
    return result


@functools.lru_cache(maxsize=1)
def wasm_tools_version() -> str:
    proc = subprocess.run([wasm_tools_exe(), "--version"], capture_output=True, text=True)
    return proc.stdout.strip()


def _cache_key(path: Path, args: list[str]) -> str:
    digest = hashlib.sha256()
    digest.update(wasm_tools_version().encode())
    digest.update("\0".join(args).encode())
    files = [path]
    if path.is_dir():  # deps/ may be a symlink (assembled real-world packages): follow it
        files = sorted(
            Path(root) / name
            for root, _, names in os.walk(path, followlinks=True)
            for name in names
        )
    for f in files:
        digest.update(b"\0" + str(f).encode(errors="surrogateescape") + b"\0")
        try:
            digest.update(f.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:32]


def wasm_tools_text(text: str, mode: Mode = DEFAULT, name: str = "input.wit") -> OracleResult:
    """wasm-tools on a WIT source given as a string (written to a content-addressed file)."""
    return wasm_tools(write_scratch(text, name), mode)


def write_scratch(text: str, name: str = "input.wit") -> Path:
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    folder = scratch_dir("text") / digest
    path = folder / name
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{name}.{os.getpid()}.tmp"
        tmp.write_text(text, encoding="utf-8", errors="surrogatepass")
        tmp.replace(path)
    return path


def write_scratch_tree(files: dict[str, str]) -> Path:
    """A folder holding `files` (relative path -> text), named by its content."""
    digest = hashlib.sha256()
    for rel, text in sorted(files.items()):
        digest.update(rel.encode() + b"\0" + text.encode("utf-8", "surrogatepass") + b"\0")
    folder = scratch_dir("trees") / digest.hexdigest()[:20]
    if not folder.exists():
        tmp = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
        for rel, text in files.items():
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            tmp.replace(folder)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def scratch_dir(kind: str) -> Path:
    path = REPO / "target" / "frontend-tests" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def _quiet_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RUST_BACKTRACE", None)
    env["NO_COLOR"] = "1"
    return env


_ARROW = re.compile(r"^\s*-->\s+(.+):(\d+):(\d+)\s*$", re.MULTILINE)
_INLINE = re.compile(r"^error: (.+?):(\d+):(\d+): ", re.MULTILINE)
_BULLET = re.compile(r"^\s*\*\s+(.+):(\d+):(\d+)\s*$", re.MULTILINE)


def parse_locations(stderr: str) -> list[Location]:
    """Where wasm-tools says the error is: the `--> file:line:col` line, else the
    `error: file:line:col: msg` prefix, else every `* file:line:col` bullet (a duplicate
    definition names both places). Empty when the message names no place."""
    for pattern in (_ARROW, _INLINE, _BULLET):
        found = [
            Location(Path(m.group(1)).resolve(), int(m.group(2)), int(m.group(3)))
            for m in pattern.finditer(stderr)
        ]
        if found:
            return found if pattern is _BULLET else found[:1]
    return []


# ---------------------------------------------------------------------------- our front end


@dataclass(frozen=True)
class Outcome:
    """What `frontend.load` did: a JSON document, or a user error (with its span)."""

    doc: Any = None
    error: WitgenError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def span(self) -> Span | None:
        err = self.error
        if isinstance(err, WitErrors) and err.errors:
            err = err.errors[0]
        return err.span if isinstance(err, WitError) else None


def load_with_witgen(path: Path, mode: Mode = DEFAULT) -> Outcome:
    """Run our front end; any exception that is not a `WitgenError` propagates (a crash)."""
    from witgen import ir

    try:
        resolve = frontend.load(path, features=mode.features, all_features=mode.all_features)
    except WitgenError as err:
        return Outcome(error=err)
    return Outcome(doc=ir.to_json(resolve))


def span_location(span: Span) -> Location:
    return Location(Path(span.file).resolve(), span.line, span.column)


def first_difference(ours: Any, theirs: Any, where: str = "$") -> str | None:
    """A readable pointer to the first place two JSON documents differ (None when equal)."""
    if type(ours) is not type(theirs):
        return f"{where}: ours {ours!r:.200} != wasm-tools {theirs!r:.200}"
    if isinstance(ours, dict):
        for key in list(theirs) + [k for k in ours if k not in theirs]:
            if key not in ours:
                return f"{where}.{key}: missing in ours (wasm-tools: {theirs[key]!r:.200})"
            if key not in theirs:
                return f"{where}.{key}: extra in ours ({ours[key]!r:.200})"
            diff = first_difference(ours[key], theirs[key], f"{where}.{key}")
            if diff:
                return diff
        if list(ours) != list(theirs):
            return f"{where}: key order differs: ours {list(ours)} vs {list(theirs)}"
        return None
    if isinstance(ours, list):
        for i, (a, b) in enumerate(zip(ours, theirs)):
            diff = first_difference(a, b, f"{where}[{i}]")
            if diff:
                return diff
        if len(ours) != len(theirs):
            return f"{where}: length {len(ours)} != wasm-tools {len(theirs)}"
        return None
    if ours != theirs:
        return f"{where}: ours {ours!r:.200} != wasm-tools {theirs!r:.200}"
    return None


# ---------------------------------------------------------------------------- inputs


def corpus_entries(folder: Path) -> list[Path]:
    """Each `.wit` file and each package directory directly under `folder`."""
    return sorted(p for p in folder.iterdir() if p.suffix == ".wit" or p.is_dir())


def entry_modes(entry: Path) -> list[Mode]:
    """Default and all-features, plus any `// test-features: a,b` named in the entry."""
    modes = [DEFAULT, ALL_FEATURES]
    files = [entry] if entry.is_file() else sorted(entry.glob("*.wit"))
    for f in files:
        for m in FEATURES_MARKER.finditer(f.read_text(encoding="utf-8")):
            names = frozenset(x.strip() for x in m.group(1).split(",") if x.strip())
            modes.append(Mode("features=" + ",".join(sorted(names)), features=names))
    return modes


def entry_id(entry: Path) -> str:
    return entry.name


def _dirs_with_wit(root: Path) -> list[Path]:
    return sorted({p.parent for p in root.rglob("*.wit")})


def _wit_roots() -> list[Path]:
    roots = [Path(p) for p in glob.glob("/usr/src/*/library/vendor/*/wit")]
    roots += [Path(p) for p in glob.glob("/usr/src/**/wit", recursive=False)]
    node = REPO / ".toolchains" / "node" / "node_modules"
    if node.is_dir():
        roots += [Path(p) for p in glob.glob(f"{node}/**/wit", recursive=True)]
    return sorted({r.resolve() for r in roots if r.is_dir()})


@functools.lru_cache(maxsize=None)
def real_world_packages() -> list[tuple[str, Path]]:
    """Installed third-party WIT packages, as (id, path) pairs.

    Every folder that holds `.wit` files is one input (wasm-tools rejects a package whose deps
    are missing, and so must we). Folders of sibling packages without a `deps/` (jco's
    `builtin/<version>/wasi-*`) are also assembled into loadable packages: a scratch folder of
    symlinks to the package's files, with its siblings linked under `deps/`.
    """
    found: dict[str, Path] = {}
    for root in _wit_roots():
        for folder in _dirs_with_wit(root):
            found[_short_id(folder)] = folder
            siblings = [
                s
                for s in folder.parent.iterdir()
                if s.is_dir() and s != folder and any(s.glob("*.wit"))
            ]
            # Inside a `deps/` folder the siblings are already covered by the parent package.
            if siblings and folder.parent.name != "deps" and not (folder / "deps").exists():
                found[_short_id(folder) + "+siblings"] = _assemble(folder, siblings)
    return sorted(found.items())


def _short_id(folder: Path) -> str:
    parts = folder.parts
    for anchor in ("vendor", "node_modules"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[i + 1 :])
    return str(folder)


def _assemble(folder: Path, siblings: list[Path]) -> Path:
    key = hashlib.sha256(str(folder).encode()).hexdigest()[:12]
    out = scratch_dir("realworld") / f"{folder.name}-{key}"
    if not out.exists():
        tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
        (tmp / "deps").mkdir(parents=True, exist_ok=True)
        for f in folder.glob("*.wit"):
            (tmp / f.name).symlink_to(f)
        for s in siblings:
            (tmp / "deps" / s.name).symlink_to(s, target_is_directory=True)
        try:
            tmp.replace(out)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return out
