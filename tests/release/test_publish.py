"""`witgen publish` against real registry servers on 127.0.0.1, then clean projects that
install the packages back from them, build plugins and run them.

Servers (installed pinned by .ci/install.d/publish.sh under .toolchains/publish/): verdaccio
(npm), pypiserver (PyPI, uploads through twine), go-containerregistry's registry (OCI), plus
two served here: a Cargo sparse-index registry with the publish API (cargo_registry.py) and a
Go module proxy directory over HTTP. Two releases are published: `wit/` at 1.0.0 and a copy
bumped to 2.0.0 that drops `logging.enabled` (a breaking change the major version allows).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import require_tool
from witgen.paths import DEFAULT_WIT, REPO_ROOT

from .cargo_registry import CargoRegistry
from .test_packages import CONFIG, make_contract

TOOLS = REPO_ROOT / ".toolchains" / "publish"
ADAPTER = REPO_ROOT / ".toolchains" / "go" / "wasi_snapshot_preview1.reactor.wasm"
CARGO_TOKEN = "cargo-test-token"


def require_path(path: Path, what: str) -> Path:
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{what} is not installed ({path}); .ci/install.d/publish.sh installs it")
        pytest.skip(f"{what} is not installed ({path}); run bash .ci/install.d/publish.sh")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server for {url} exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"server for {url} did not start:\n{log.read_text()[-3000:]}")


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@dataclass
class Registries:
    npm: str
    npm_token: str
    pypi: str
    oci: str  # host:port
    cargo: str  # index URL
    goproxy_dir: Path
    goproxy: str

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "NPM_TOKEN": self.npm_token,
            "TWINE_USERNAME": "tester",
            "TWINE_PASSWORD": "unused",
            "CARGO_REGISTRY_TOKEN": CARGO_TOKEN,
        }

    def args(self) -> list[str]:
        return [
            "--registry",
            f"npm={self.npm}",
            "--registry",
            f"pypi={self.pypi}",
            "--registry",
            f"cargo=sparse+{self.cargo}",
            "--registry",
            f"go={self.goproxy_dir}",
            "--registry",
            f"oci=http://{self.oci}/witgen-test",
        ]


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registries]:
    node = require_tool("node")
    verdaccio = require_path(
        TOOLS / "npm" / "node_modules" / "verdaccio" / "bin" / "verdaccio", "verdaccio"
    )
    require_path(TOOLS / "py" / "pypiserver", "pypiserver")
    oci_server = require_path(TOOLS / "bin" / "registry", "go-containerregistry's registry")
    base = tmp_path_factory.mktemp("registries")
    procs: list[subprocess.Popen[bytes]] = []

    def start(
        cmd: list[str], name: str, env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen[bytes], Path]:
        log = base / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, cwd=base, stdout=out, stderr=subprocess.STDOUT, env=env)
        procs.append(proc)
        return proc, log

    # npm: verdaccio with its htpasswd auth; a user is created and its token used to publish.
    npm_port = free_port()
    (base / "verdaccio").mkdir()
    (base / "verdaccio" / "config.yaml").write_text(
        "storage: ./storage\nauth:\n  htpasswd:\n    file: ./htpasswd\n    max_users: 10\n"
        "uplinks: {}\npackages:\n  '**':\n    access: $all\n    publish: $authenticated\n"
        "log: { type: stdout, format: pretty, level: warn }\n"
    )
    npm_url = f"http://127.0.0.1:{npm_port}/"
    proc, log = start(
        [
            node,
            str(verdaccio),
            "--config",
            str(base / "verdaccio" / "config.yaml"),
            "--listen",
            f"127.0.0.1:{npm_port}",
        ],
        "verdaccio",
    )
    # PyPI: pypiserver accepting uploads without a password (-P . -a .).
    pypi_port = free_port()
    (base / "pypi").mkdir()
    pypi_proc, pypi_log = start(
        [
            sys.executable,
            "-m",
            "pypiserver",
            "run",
            "-i",
            "127.0.0.1",
            "-p",
            str(pypi_port),
            "-P",
            ".",
            "-a",
            ".",
            str(base / "pypi"),
        ],
        "pypiserver",
        env={**os.environ, "PYTHONPATH": str(TOOLS / "py")},
    )
    oci_port = free_port()
    oci_proc, oci_log = start([str(oci_server), "-port", str(oci_port)], "oci")
    goproxy_dir = base / "goproxy"
    goproxy_dir.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(goproxy_dir))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    goproxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=goproxy.serve_forever, daemon=True).start()
    try:
        with CargoRegistry(CARGO_TOKEN) as cargo:
            wait_for(f"{npm_url}-/ping", proc, log)
            wait_for(f"http://127.0.0.1:{pypi_port}/", pypi_proc, pypi_log)
            wait_for(f"http://127.0.0.1:{oci_port}/v2/", oci_proc, oci_log)
            request = urllib.request.Request(
                f"{npm_url}-/user/org.couchdb.user:tester",
                data=json.dumps({"name": "tester", "password": "tester-password"}).encode(),
                method="PUT",
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as reply:
                token = json.loads(reply.read())["token"]
            yield Registries(
                npm=npm_url,
                npm_token=token,
                pypi=f"http://127.0.0.1:{pypi_port}/",
                oci=f"127.0.0.1:{oci_port}",
                cargo=f"{cargo.url}/index/",
                goproxy_dir=goproxy_dir,
                goproxy=f"http://127.0.0.1:{goproxy.server_address[1]}",
            )
    finally:
        goproxy.shutdown()
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def witgen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


@dataclass
class Published:
    v1: Path
    v2: Path
    registries: Registries


@pytest.fixture(scope="module")
def published(registries: Registries, tmp_path_factory: pytest.TempPathFactory) -> Published:
    base = tmp_path_factory.mktemp("published")
    v1_wit = make_contract(base / "v1", "1.0.0")
    v2_wit = make_contract(base / "v2", "2.0.0")
    text = (v2_wit / "dataflare.wit").read_text()
    text, n = re.subn(
        r"\n    /// Whether the host would.*?\n    enabled: func[^\n]*\n", "\n", text, flags=re.S
    )
    assert n == 1
    (v2_wit / "dataflare.wit").write_text(text)
    out = base / "dist"
    for wit, against in ((v1_wit, None), (v2_wit, v1_wit)):
        extra = ["--against", str(against)] if against else []
        proc = witgen("release", str(wit), "--out", str(out), *extra)
        assert proc.returncode == 0, proc.stderr
    for version in ("1.0.0", "2.0.0"):
        proc = witgen("publish", str(out / version), *registries.args(), env=registries.env())
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert f"published dataflare:core@{version} to 5 registries" in proc.stdout
    return Published(out / "1.0.0", out / "2.0.0", registries)


def get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=30) as reply:
        return json.loads(reply.read())


def test_every_registry_serves_both_versions(published: Published) -> None:
    r = published.registries
    npm = get_json(f"{r.npm}@acme%2fflare")
    assert isinstance(npm, dict) and set(npm["versions"]) == {"1.0.0", "2.0.0"}
    assert npm["versions"]["2.0.0"]["types"] == "./index.ts"
    with urllib.request.urlopen(f"{r.pypi}simple/acme-flare-host/", timeout=30) as reply:
        page = reply.read().decode()
    for name in ("acme_flare_host-1.0.0-py3-none-any.whl", "acme_flare_host-2.0.0.tar.gz"):
        assert name in page
    with urllib.request.urlopen(f"{r.cargo}ac/me/acme-flare", timeout=30) as reply:
        lines = [json.loads(line) for line in reply.read().decode().splitlines()]
    assert [line["vers"] for line in lines] == ["1.0.0", "2.0.0"]
    assert (r.goproxy_dir / "example.com/acme/flare/@v/list").read_text() == "v1.0.0\n"
    assert (r.goproxy_dir / "example.com/acme/flare/v2/@v/list").read_text() == "v2.0.0\n"
    tags = get_json(f"http://{r.oci}/v2/witgen-test/dataflare/core/tags/list")
    assert isinstance(tags, dict) and sorted(tags["tags"]) == ["1.0.0", "2.0.0"]
    # what the registries hold is byte for byte the release's packages
    manifest = json.loads((published.v2 / "release.json").read_text())
    crate = f"{r.cargo.removesuffix('/index/')}/api/v1/crates/acme-flare/2.0.0/download"
    with urllib.request.urlopen(crate, timeout=30) as reply:
        data = reply.read()
    import hashlib

    assert (
        hashlib.sha256(data).hexdigest()
        == manifest["languages"]["rust"]["packages"]["packages/rust/acme-flare-2.0.0.crate"]
    )


def test_publishing_the_same_version_again_is_refused(published: Published) -> None:
    r = published.registries
    proc = witgen(
        "publish", str(published.v1), "--registry", f"cargo=sparse+{r.cargo}", env=r.env()
    )
    assert proc.returncode == 1
    assert "exists" in proc.stderr and "Traceback" not in proc.stderr


def test_a_tampered_package_is_not_published(published: Published, tmp_path: Path) -> None:
    copy = shutil.copytree(published.v1, tmp_path / "1.0.0")
    crate = copy / "packages" / "rust" / "acme-flare-1.0.0.crate"
    crate.write_bytes(crate.read_bytes() + b"\0")
    proc = witgen("publish", str(copy), "--registry", f"cargo=sparse+{published.registries.cargo}")
    assert proc.returncode == 2 and "does not match the digest in release.json" in proc.stderr


def pip_install(r: Registries, spec: str, target: Path) -> Path:
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-cache-dir",
            "--index-url",
            f"{r.pypi}simple/",
            "--target",
            str(target),
            spec,
        ]
    )
    return target


HOST_SCRIPT = """
import sys
from acme_flare import ProcessorPlugin, Ok, Err
from acme_flare.types import DataRecord


class Host:
    def __init__(self):
        self.lines = []
        self.counters = {}

    def log(self, level, message):
        self.lines.append(message)

    def enabled(self, level):
        return True

    def counter_add(self, name, delta):
        self.counters[name] = self.counters.get(name, 0) + delta

    def histogram_record(self, name, value, labels):
        pass

    def get(self, key):
        return {"tag": "registry"}.get(key)

    def get_int(self, key):
        return Err(None)

    def get_all(self):
        return [("tag", "registry")]


host = Host()
cache_dir = sys.argv[2] if len(sys.argv) > 2 else None
with ProcessorPlugin.load(
    sys.argv[1], logging=host, metrics=host, config=host, cache=bool(cache_dir), cache_dir=cache_dir
) as p:
    info = p.info()
    result = p.process(DataRecord(id="r1", timestamp=1, payload=b"hello", metadata=[]))
    print(type(result).__name__, result.value.payload.decode(), info.name, sorted(host.counters))
"""


def run_plugin(component: Path, host_package: Path, cache_dir: Path | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": str(host_package)}
    cache = [str(cache_dir)] if cache_dir is not None else []
    return run([sys.executable, "-c", HOST_SCRIPT, str(component), *cache], env=env).strip()


def oras_pull(r: Registries, repository: str, tag: str, out: Path) -> list[Path]:
    """Pull with oras-py, a client independent of witgen's push code."""
    script = (
        "import sys, oras.client\n"
        "c = oras.client.OrasClient(hostname=sys.argv[1], insecure=True)\n"
        "print('\\n'.join(c.pull(target=sys.argv[2], outdir=sys.argv[3])))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(TOOLS / "py")}
    lines = run(
        [sys.executable, "-c", script, r.oci, f"{r.oci}/{repository}:{tag}", str(out)], env=env
    )
    return [Path(line) for line in lines.split()]


def test_go_plugin_from_the_registries_builds_and_runs(
    published: Published, tmp_path: Path
) -> None:
    go = require_tool("go")
    wasm_tools = require_tool("wasm-tools")
    require_path(ADAPTER, "the WASI reactor adapter (.ci/install.d/go.sh)")
    r = published.registries
    project = tmp_path / "go-plugin"
    project.mkdir()
    module = "example.com/acme/flare/v2"
    source = (REPO_ROOT / "examples" / "go" / "processor" / "main.go").read_text()
    (project / "main.go").write_text(source.replace('"sdk/', f'"{module}/'))
    (project / "go.mod").write_text("module example.com/plugin\n\ngo 1.24\n")
    env = {
        **os.environ,
        "GOPROXY": r.goproxy,
        "GOSUMDB": "off",
        "GOFLAGS": "-mod=mod",
        "GOTOOLCHAIN": "local",
        "GOWORK": "off",
        "GOMODCACHE": str(tmp_path / "gomodcache"),
    }
    run([go, "get", f"{module}@v2.0.0"], cwd=project, env=env)
    run(
        [go, "build", "-buildmode=c-shared", "-ldflags=-checklinkname=0", "-o", "core.wasm", "."],
        cwd=project,
        env={**env, "GOOS": "wasip1", "GOARCH": "wasm"},
    )
    # The build uses the WIT that ships inside the module.
    moddir = Path(run([go, "list", "-m", "-f", "{{.Dir}}", module], cwd=project, env=env).strip())
    run(
        [
            wasm_tools,
            "component",
            "embed",
            str(moddir / "wit"),
            "--world",
            "processor-plugin",
            "core.wasm",
            "-o",
            "embedded.wasm",
        ],
        cwd=project,
    )
    run(
        [
            wasm_tools,
            "component",
            "new",
            "embedded.wasm",
            "--adapt",
            f"wasi_snapshot_preview1={ADAPTER}",
            "-o",
            "processor.wasm",
        ],
        cwd=project,
    )
    # Push the plugin component to OCI with the release, pull it back with another client.
    proc = witgen(
        "publish",
        str(published.v2),
        "--registry",
        f"oci=http://{r.oci}/plugins",
        "--component",
        f"go-processor={project / 'processor.wasm'}",
    )
    assert proc.returncode == 0, proc.stderr
    manifest = get_json(f"http://{r.oci}/v2/plugins/go-processor/manifests/2.0.0")
    assert isinstance(manifest, dict)
    assert manifest["config"]["mediaType"] == "application/vnd.wasm.config.v0+json"
    assert [layer["mediaType"] for layer in manifest["layers"]] == ["application/wasm"]
    (pulled,) = oras_pull(r, "plugins/go-processor", "2.0.0", tmp_path / "pulled")
    assert pulled.read_bytes() == (project / "processor.wasm").read_bytes()
    host = pip_install(r, "acme-flare-host==2.0.0", tmp_path / "host")
    out = run_plugin(pulled, host)
    assert out.startswith("ProcessingResultEmit HELLO"), out


def test_rust_plugin_from_the_cargo_registry_builds_and_runs(
    published: Published, tmp_path: Path
) -> None:
    from witgen.toolchains import rust

    if rust.missing_tools():
        if os.environ.get("CI"):
            pytest.fail("missing: " + ", ".join(rust.missing_tools()))
        pytest.skip("missing: " + ", ".join(rust.missing_tools()))
    r = published.registries
    project = tmp_path / "rust-plugin"
    (project / "src").mkdir(parents=True)
    (project / "Cargo.toml").write_text(
        '[package]\nname = "registry-processor"\nversion = "0.1.0"\nedition = "2021"\n'
        'build = "build.rs"\n\n[lib]\ncrate-type = ["cdylib"]\n\n'
        '[dependencies]\nacme-flare = { version = "1.0.0", registry = "local" }\n\n'
        '[profile.release]\npanic = "abort"\n'
    )
    # The build script finds the WIT the SDK ships and records it for the componentize step.
    (project / "build.rs").write_text(
        "fn main() {\n"
        '    let wit = std::env::var("DEP_ACME_FLARE_WIT_WIT_DIR").unwrap();\n'
        '    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap();\n'
        '    std::fs::write(std::path::Path::new(&dir).join("wit-dir.txt"), wit).unwrap();\n'
        "}\n"
    )
    source = (REPO_ROOT / "examples" / "rust" / "processor" / "src" / "lib.rs").read_text()
    (project / "src" / "lib.rs").write_text(source.replace("plugin_sdk", "acme_flare"))
    env = {
        **os.environ,
        "RUSTC": str(rust.DEBIAN_RUSTC),
        "RUSTC_BOOTSTRAP": "1",
        "CARGO_HOME": str(tmp_path / "cargo-home"),
        "CARGO_TARGET_DIR": str(REPO_ROOT / "target" / "publish-guests"),
        "CARGO_TERM_COLOR": "never",
    }
    env.pop("RUSTUP_TOOLCHAIN", None)
    cmd = [c for c in rust.cargo_command(project, vendored=True, quiet=True) if c != "--offline"]
    cmd += ["--config", f'registries.local.index="sparse+{r.cargo}"']
    run(cmd, cwd=project, env=env)
    wit_dir = Path((project / "wit-dir.txt").read_text())
    assert (wit_dir / "dataflare.wit").is_file() and "cargo-home" in str(wit_dir)
    core = (
        REPO_ROOT
        / "target"
        / "publish-guests"
        / rust.TARGET
        / "release"
        / "registry_processor.wasm"
    )
    component = rust.componentize(core, wit_dir, "processor-plugin", tmp_path / "processor.wasm")
    host = pip_install(r, "acme-flare-host==1.0.0", tmp_path / "host")
    out = run_plugin(component, host)
    assert out == "ProcessingResultEmit HELLO uppercase ['processor.records']", out


def test_typescript_plugin_from_npm_builds_and_runs(published: Published, tmp_path: Path) -> None:
    npm = require_tool("npm")
    tsc = require_path(REPO_ROOT / ".toolchains" / "node" / "node_modules" / ".bin" / "tsc", "tsc")
    r = published.registries
    project = tmp_path / "ts-plugin"
    project.mkdir()
    (project / "package.json").write_text('{"name": "plugin", "private": true, "type": "module"}\n')
    run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--registry",
            r.npm,
            "--cache",
            str(tmp_path / "npm-cache"),
            "@acme/flare@2.0.0",
        ],
        cwd=project,
    )
    sdk = project / "node_modules" / "@acme" / "flare"
    assert json.loads((sdk / "package.json").read_text())["version"] == "2.0.0"
    assert (sdk / "wit" / "dataflare.wit").is_file()
    (project / "plugin.ts").write_text(
        '/// <reference path="./node_modules/@acme/flare/interfaces/dataflare-core-logging.d.ts" />\n'
        'import { log } from "dataflare:core/logging@2.0.0";\n'
        'import { defineProcessor } from "@acme/flare/processor-plugin";\n'
        'import type { DataRecord } from "@acme/flare/processor-plugin";\n\n'
        "export const processor = defineProcessor({\n"
        '  info: () => ({ name: "ts", version: "1", capabilities: { batching: true } }),\n'
        "  process(record: DataRecord) {\n"
        '    log("debug", record.id);\n'
        "    const text = new TextDecoder().decode(record.payload).toUpperCase();\n"
        '    return { tag: "emit", val: { ...record, payload: new TextEncoder().encode(text) } };\n'
        "  },\n"
        "  processBatch(records: DataRecord[]) {\n"
        '    return records.map((val) => ({ tag: "emit" as const, val }));\n'
        "  },\n"
        "});\n"
    )
    (project / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "target": "es2022",
                    "module": "es2022",
                    "moduleResolution": "bundler",
                    "strict": True,
                    "noEmit": True,
                    "skipLibCheck": False,
                },
                "files": ["plugin.ts"],
            }
        )
    )
    run([str(tsc), "-p", "."], cwd=project)
    # Build: tsc, a bundler that reads the package's TypeScript (rolldown, which componentize-js
    # brings), then componentize-js with the WIT that ships in the package.
    bin_dir = REPO_ROOT / ".toolchains" / "node" / "node_modules" / ".bin"
    rolldown = require_path(bin_dir / "rolldown", "rolldown")
    componentize = require_path(bin_dir / "componentize-js", "componentize-js")
    run([str(tsc), "-p", ".", "--noEmit", "false", "--outDir", "js"], cwd=project)
    run([str(rolldown), "js/plugin.js", "--file", "bundle.js", "--format", "esm",
         "--external", "dataflare:core/logging@2.0.0"], cwd=project)  # fmt: skip
    run([str(componentize), "bundle.js", "--wit", str(sdk / "wit"), "-n", "processor-plugin",
         "-d", "http", "fetch-event", "-o", "processor.wasm"], cwd=project)  # fmt: skip
    host = pip_install(r, "acme-flare-host==2.0.0", tmp_path / "host")
    # A 12 MB component: compiled code is cached across runs (the bytes are reproducible).
    cache = REPO_ROOT / "target" / "publish-guests" / "wasmtime-cache"
    out = run_plugin(project / "processor.wasm", host, cache)
    assert out.startswith("ProcessingResultEmit HELLO ts"), out
    # The package's own imports are checked too: a plugin for 1.0.0 (which imports `enabled`)
    # does not type-check against 2.0.0.
    (project / "plugin.ts").write_text(
        (project / "plugin.ts").read_text().replace("import { log }", "import { enabled, log }")
    )
    proc = subprocess.run([str(tsc), "-p", "."], cwd=project, capture_output=True, text=True)
    assert proc.returncode != 0 and "enabled" in proc.stdout
