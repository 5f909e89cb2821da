"""`witgen publish` refuses bad input before talking to any registry (exit 2, no traceback)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from witgen.publish import cargo_publish_body, parse_registry

from .test_packages import make_contract


def witgen(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "witgen", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("rel")
    wit = make_contract(base / "wit", "1.0.0")
    proc = witgen(
        "release", str(wit), "--out", str(base / "dist"), "--lang", "rust", "--lang", "go"
    )
    assert proc.returncode == 0, proc.stderr
    return base / "dist"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--registry", "maven=http://x"], "expected KIND=LOCATION with KIND one of"),
        (["--registry", "go=http://127.0.0.1:1/"], "a Go module proxy has no upload API"),
        (["--registry", "pypi=http://127.0.0.1:1/"], "has no python package"),
        (["--registry", "go=DIR", "--component", "x"], "expected NAME=FILE"),
        (["--registry", "go=DIR", "--component", "x=y.wasm"], "needs an OCI registry"),
    ],
)
def test_bad_input_exits_2(release: Path, args: list[str], message: str) -> None:
    proc = witgen("publish", str(release), *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


def test_no_release_is_a_usage_error(tmp_path: Path) -> None:
    proc = witgen("publish", str(tmp_path), "--registry", "go=x")
    assert proc.returncode == 2 and "no release.json" in proc.stderr


def test_unreachable_registry_exits_1(release: Path) -> None:
    proc = witgen("publish", str(release), "--registry", "cargo=sparse+http://127.0.0.1:1/index/")
    assert proc.returncode == 1 and "cannot reach" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_go_layout_is_merged_into_a_directory(release: Path, tmp_path: Path) -> None:
    proxy = tmp_path / "proxy"
    proc = witgen("publish", str(release), "--registry", f"go={proxy}")
    assert proc.returncode == 0, proc.stderr
    listed = proxy / "example.com" / "acme" / "flare" / "@v" / "list"
    assert listed.read_text() == "v1.0.0\n"
    # publishing again is idempotent for identical bytes; other bytes are refused
    assert witgen("publish", str(release), "--registry", f"go={proxy}").returncode == 0
    (listed.parent / "v1.0.0.mod").write_text("module other\n")
    proc = witgen("publish", str(release), "--registry", f"go={proxy}")
    assert proc.returncode == 1 and "a Go version is immutable" in proc.stderr


def test_cargo_publish_body_is_cargos_wire_format(release: Path) -> None:
    crate = (release / "1.0.0" / "packages" / "rust" / "acme-flare-1.0.0.crate").read_bytes()
    body = cargo_publish_body(crate)
    n = int.from_bytes(body[:4], "little")
    import json

    meta = json.loads(body[4 : 4 + n])
    assert (meta["name"], meta["vers"], meta["license"]) == (
        "acme-flare",
        "1.0.0",
        "MIT OR Apache-2.0",
    )
    assert meta["links"] == "acme-flare-wit" and meta["deps"] == []
    m = int.from_bytes(body[4 + n : 8 + n], "little")
    assert body[8 + n :] == crate and m == len(crate)
    assert parse_registry("oci=http://h/p") == ("oci", "http://h/p")


class _TokenRegistry:
    """An OCI registry stand-in that demands the bearer-token exchange (as ghcr.io does)."""

    def __init__(self) -> None:
        import http.server
        import threading

        self.blobs: dict[str, bytes] = {}
        self.manifests: dict[str, bytes] = {}
        self.token_requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def send(
                self, code: int, body: bytes = b"", headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def authorized(self) -> bool:
                if self.headers.get("Authorization") == "Bearer pushed-token":
                    return True
                realm = f"{outer.url}/token"
                self.send(401, b"", {"WWW-Authenticate": f'Bearer realm="{realm}",service="test"'})
                return False

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/token"):
                    outer.token_requests.append(
                        self.path + " " + self.headers.get("Authorization", "")
                    )
                    return self.send(200, b'{"token": "pushed-token"}')
                if self.authorized():
                    self.send(200, b"{}")

            def do_POST(self) -> None:  # noqa: N802
                if self.authorized():
                    self.send(202, b"", {"Location": "/upload/1"})

            def do_PUT(self) -> None:  # noqa: N802
                if not self.authorized():
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path.startswith("/upload/"):
                    digest = self.path.split("digest=", 1)[1].replace("%3A", ":")
                    outer.blobs[digest] = body
                else:
                    outer.manifests[self.path] = body
                self.send(201)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_oci_push_follows_the_bearer_token_challenge(monkeypatch: pytest.MonkeyPatch) -> None:
    import base64
    import hashlib
    import json

    from witgen.publish import oci_push_wasm

    registry = _TokenRegistry()
    try:
        monkeypatch.setenv("OCI_USERNAME", "ada")
        monkeypatch.setenv("OCI_PASSWORD", "s3cret")
        wasm = b"\0asm\x0d\0\x01\0"
        digest = oci_push_wasm(
            registry.url, "org/plugin", "1.0.0", wasm, title="plugin.wasm", version="1.0.0"
        )
    finally:
        registry.server.shutdown()
    (request,) = registry.token_requests
    assert "scope=repository%3Aorg%2Fplugin%3Apull%2Cpush" in request and "service=test" in request
    assert request.endswith("Basic " + base64.b64encode(b"ada:s3cret").decode())
    manifest = registry.manifests["/v2/org/plugin/manifests/1.0.0"]
    assert digest == "sha256:" + hashlib.sha256(manifest).hexdigest()
    doc = json.loads(manifest)
    assert doc["config"]["mediaType"] == "application/vnd.wasm.config.v0+json"
    assert doc["layers"][0]["mediaType"] == "application/wasm"
    assert registry.blobs[doc["layers"][0]["digest"]] == wasm
