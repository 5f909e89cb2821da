"""`witgen publish`: push a release's packages to the registries of their ecosystems.

A release directory (`dist/VERSION/`, written by `witgen release`) holds `release.json` and the
archives under `packages/`. Each archive's digest is checked against `release.json` before
anything is sent. Registries are given as `KIND=LOCATION`:

- `npm=URL`: `npm publish` of the tarball (token: `NPM_TOKEN`);
- `pypi=URL`: `twine upload` of the wheel and sdist (`TWINE_USERNAME`/`TWINE_PASSWORD`, or a
  `PYPI_TOKEN` sent as `__token__`);
- `cargo=URL`: the registry's index (`sparse+https://host/index/`): its `config.json` names
  the API, and the `.crate` is sent with the publish request Cargo itself makes (`PUT
  /api/v1/crates/new`; token: `CARGO_REGISTRY_TOKEN`);
- `go=DIR`: a module proxy has no upload API: the module's files (`MODULE/@v/list`, `.info`,
  `.mod`, `.zip`) are merged into DIR, the directory a GOPROXY server serves (or push the tag
  in `go/VERSION` to the repository);
- `oci=URL` (`http://host:port/PREFIX` or `oci://host/PREFIX`): WebAssembly as wasm-pkg tools
  lay it out (OCI image manifest, config `application/vnd.wasm.config.v0+json`, one layer
  `application/wasm`): the WIT package encoded as a component at `PREFIX/NS/NAME:VERSION`, and
  each `--component NAME=FILE` at `PREFIX/NAME:VERSION` (credentials: see `oci_auth`).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from witgen.diagnostics import UsageError, WitgenError
from witgen.release_archives import iso_time, source_date_epoch

KINDS = ("npm", "pypi", "cargo", "go", "oci")

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
WASM_CONFIG = "application/vnd.wasm.config.v0+json"
WASM_LAYER = "application/wasm"


class PublishError(WitgenError):
    """A registry refused a package or could not be reached (exit 1)."""


@dataclass(frozen=True)
class Release:
    root: Path
    manifest: dict[str, Any]

    @property
    def package(self) -> str:
        return str(self.manifest["package"])

    @property
    def version(self) -> str:
        return str(self.manifest["version"])

    def archives(self, lang: str) -> list[Path]:
        entry = self.manifest.get("languages", {}).get(lang)
        if entry is None:
            raise UsageError(f"the release in {self.root} has no {lang} package")
        return [self.root / rel for rel in sorted(entry.get("packages", {}))]


def open_release(path: Path) -> Release:
    """The release in `path` (`dist/VERSION`, or `dist` when it holds exactly one version),
    with every archive checked against the digests in its release.json."""
    root = path
    if not (root / "release.json").is_file() and root.is_dir():
        versions = sorted(p for p in root.iterdir() if (p / "release.json").is_file())
        if len(versions) == 1:
            root = versions[0]
        elif versions:
            names = ", ".join(p.name for p in versions)
            raise UsageError(f"{path} holds several releases ({names}); name one: {path}/VERSION")
    try:
        manifest = json.loads((root / "release.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no release.json (write a release with `witgen release`)")
    except (OSError, ValueError) as err:
        raise UsageError(f"{root / 'release.json'}: cannot read it: {err}") from None
    for lang, entry in sorted(manifest.get("languages", {}).items()):
        for rel, digest in sorted(entry.get("packages", {}).items()):
            try:
                data = (root / rel).read_bytes()
            except OSError as err:
                raise UsageError(f"{root / rel}: missing from the release ({err.strerror})")
            if hashlib.sha256(data).hexdigest() != digest:
                raise UsageError(
                    f"{root / rel} does not match the digest in release.json: it changed after "
                    "`witgen release`; release again"
                )
    return Release(root, manifest)


def parse_registry(spec: str) -> tuple[str, str]:
    kind, sep, location = spec.partition("=")
    if not sep or kind not in KINDS or not location:
        raise UsageError(
            f"--registry {spec!r}: expected KIND=LOCATION with KIND one of {', '.join(KINDS)}"
        )
    return kind, location


# -- helpers -------------------------------------------------------------------------------------

Log = Callable[[str], None]


def _run(argv: list[str], *, env: dict[str, str] | None = None, what: str) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    except FileNotFoundError:
        raise UsageError(f"{what}: `{argv[0]}` is not installed") from None
    except subprocess.TimeoutExpired:
        raise PublishError(f"{what}: `{argv[0]}` did not finish in 600 s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()[-12:]
        raise PublishError(f"{what} failed:\n" + "\n".join(detail))


def _http(
    method: str,
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    what: str,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as err:
        body = err.read().decode("utf-8", "replace")[:500]
        raise PublishError(f"{what}: {method} {url} -> HTTP {err.code}: {body}") from None
    except (urllib.error.URLError, OSError) as err:
        raise PublishError(f"{what}: cannot reach {url}: {err}") from None


# -- npm -----------------------------------------------------------------------------------------


def publish_npm(release: Release, url: str, log: Log) -> None:
    (tarball,) = release.archives("typescript")
    npm = shutil.which("npm")
    if npm is None:
        raise UsageError("publishing to npm needs the `npm` client on PATH")
    parsed = urllib.parse.urlparse(url)
    with tempfile.TemporaryDirectory(prefix="witgen-npm-") as tmp:
        npmrc = Path(tmp) / ".npmrc"
        lines = [f"registry={url}"]
        token = os.environ.get("NPM_TOKEN")
        if token:
            lines.append(f"//{parsed.netloc}{parsed.path.rstrip('/')}/:_authToken={token}")
        npmrc.write_text("\n".join(lines) + "\n", encoding="utf-8")
        _run(
            [npm, "publish", str(tarball), "--registry", url, "--userconfig", str(npmrc)]
            + ["--access", "public", "--ignore-scripts", "--cache", str(Path(tmp) / "cache")],
            what=f"npm publish to {url}",
        )
    log(f"npm: published {release.manifest['names']['typescript']}@{release.version} to {url}")


# -- PyPI ----------------------------------------------------------------------------------------


def publish_pypi(release: Release, url: str, log: Log) -> None:
    files = release.archives("python")
    if importlib.util.find_spec("twine") is None:
        raise UsageError("publishing to PyPI needs twine (pip install twine)")
    env = dict(os.environ)
    if "TWINE_PASSWORD" not in env and env.get("PYPI_TOKEN"):
        env["TWINE_USERNAME"], env["TWINE_PASSWORD"] = "__token__", env["PYPI_TOKEN"]
    if "TWINE_USERNAME" not in env or "TWINE_PASSWORD" not in env:
        raise UsageError(
            "publishing to PyPI needs TWINE_USERNAME and TWINE_PASSWORD (or PYPI_TOKEN)"
        )
    _run(
        [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar"]
        + ["--repository-url", url, *map(str, files)],
        env=env,
        what=f"twine upload to {url}",
    )
    log(f"pypi: uploaded {', '.join(f.name for f in files)} to {url}")


# -- Cargo ---------------------------------------------------------------------------------------


def _crate_manifest(crate: bytes) -> dict[str, Any]:
    with tarfile.open(fileobj=io.BytesIO(crate)) as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if len(parts) == 2 and parts[1] == "Cargo.toml":
                extracted = tar.extractfile(member)
                assert extracted is not None
                return tomllib.loads(extracted.read().decode("utf-8"))
    raise UsageError("the .crate holds no Cargo.toml")


def cargo_publish_body(crate: bytes) -> bytes:
    """The body of Cargo's publish request: u32le JSON length, JSON, u32le crate length, crate."""
    manifest = _crate_manifest(crate)
    pkg = manifest["package"]
    meta = {
        "name": pkg["name"],
        "vers": pkg["version"],
        "deps": [],
        "features": {k: list(v) for k, v in manifest.get("features", {}).items()},
        "authors": pkg.get("authors", []),
        "description": pkg.get("description"),
        "documentation": pkg.get("documentation"),
        "homepage": pkg.get("homepage"),
        "readme": None,
        "readme_file": pkg.get("readme"),
        "keywords": pkg.get("keywords", []),
        "categories": pkg.get("categories", []),
        "license": pkg.get("license"),
        "license_file": pkg.get("license-file"),
        "repository": pkg.get("repository"),
        "badges": {},
        "links": pkg.get("links"),
        "rust_version": pkg.get("rust-version"),
    }
    doc = json.dumps(meta).encode()
    return len(doc).to_bytes(4, "little") + doc + len(crate).to_bytes(4, "little") + crate


def publish_cargo(release: Release, url: str, log: Log) -> None:
    (crate_path,) = release.archives("rust")
    index = url.removeprefix("sparse+")
    if not index.endswith("/"):
        index += "/"
    _, _, body = _http("GET", index + "config.json", what="cargo registry")
    try:
        api = str(json.loads(body)["api"]).rstrip("/")
    except (ValueError, KeyError):
        raise PublishError(f"{index}config.json names no `api`: the registry takes no uploads")
    headers = {"Content-Type": "application/octet-stream"}
    token = os.environ.get("CARGO_REGISTRY_TOKEN")
    if token:
        headers["Authorization"] = token
    _, _, reply = _http(
        "PUT",
        api + "/api/v1/crates/new",
        cargo_publish_body(crate_path.read_bytes()),
        headers,
        what="cargo publish",
    )
    try:
        answer = json.loads(reply or b"{}")
    except ValueError:
        answer = {}
    if answer.get("errors"):
        raise PublishError(
            "cargo publish: " + "; ".join(e.get("detail", "?") for e in answer["errors"])
        )
    log(f"cargo: published {crate_path.name} to {api}")


# -- Go ------------------------------------------------------------------------------------------


def publish_go(release: Release, location: str, log: Log) -> None:
    if location.startswith(("http://", "https://")):
        raise UsageError(
            "a Go module proxy has no upload API: give the directory your GOPROXY server serves "
            f"(go=DIR), or push the git tag in {release.root / 'go' / 'VERSION'}"
        )
    target = Path(
        urllib.parse.urlparse(location).path if location.startswith("file:") else location
    )
    base = release.root / "packages" / "go"
    for src in release.archives("go"):
        rel = src.relative_to(base)
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.name == "list":
            known = dest.read_text().split() if dest.exists() else []
            versions = sorted(set(known) | set(src.read_text().split()))
            dest.write_text("".join(v + "\n" for v in versions))
        elif dest.exists() and dest.read_bytes() != src.read_bytes():
            raise PublishError(f"{dest} exists with other content: a Go version is immutable")
        else:
            shutil.copyfile(src, dest)
    log(f"go: {release.manifest['names']['go']}@v{release.version} laid out in {target}")


# -- OCI (wasm-pkg layout) -----------------------------------------------------------------------


def _oci_base(url: str) -> tuple[str, str]:
    """(`http(s)://host:port`, repository prefix) from `http://host/prefix` or `oci://host/p`."""
    if url.startswith("oci://"):
        url = "https://" + url.removeprefix("oci://")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UsageError(f"oci={url}: expected http(s)://HOST[:PORT]/PREFIX or oci://HOST/PREFIX")
    return f"{parsed.scheme}://{parsed.netloc}", parsed.path.strip("/")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="..."` -> ("bearer", {"realm": ..., "service": ...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def oci_auth(registry: str, repository: str) -> dict[str, str]:
    """Headers that authorize a push, following the registry's challenge on `GET /v2/`.

    Credentials: `OCI_USERNAME` + `OCI_PASSWORD` (basic, or exchanged for a bearer token at the
    realm the registry names, as `docker login` does), or `OCI_TOKEN` used as a bearer token
    (or as the password of the token exchange). None needed for an open registry.
    """
    user, password = os.environ.get("OCI_USERNAME"), os.environ.get("OCI_PASSWORD")
    token = os.environ.get("OCI_TOKEN")
    try:
        with urllib.request.urlopen(f"{registry}/v2/", timeout=60):
            return {"Authorization": f"Bearer {token}"} if token else {}
    except urllib.error.HTTPError as err:
        if err.code != 401:
            raise PublishError(f"oci push: GET {registry}/v2/ -> HTTP {err.code}") from None
        scheme, params = _challenge(err.headers.get("WWW-Authenticate", ""))
    except (urllib.error.URLError, OSError) as err:
        raise PublishError(f"oci push: cannot reach {registry}: {err}") from None
    secret = password or token
    basic = None
    if secret:
        pair = f"{user or 'witgen'}:{secret}".encode()
        basic = "Basic " + base64.b64encode(pair).decode()
    if scheme == "basic":
        if basic is None:
            raise UsageError(f"{registry} wants a login: set OCI_USERNAME and OCI_PASSWORD")
        return {"Authorization": basic}
    if scheme != "bearer" or "realm" not in params:
        raise PublishError(f"oci push: {registry} asks for an authentication witgen cannot do")
    query = {"scope": f"repository:{repository}:pull,push"}
    if "service" in params:
        query["service"] = params["service"]
    url = params["realm"] + ("&" if "?" in params["realm"] else "?")
    url += urllib.parse.urlencode(query)
    _, _, body = _http(
        "GET", url, None, {"Authorization": basic} if basic else {}, what="oci login"
    )
    try:
        doc = json.loads(body)
        bearer = str(doc.get("token") or doc["access_token"])
    except (ValueError, KeyError):
        raise PublishError(f"oci login: {params['realm']} returned no token") from None
    return {"Authorization": f"Bearer {bearer}"}


def oci_push_wasm(
    registry: str, repository: str, tag: str, wasm: bytes, *, title: str, version: str
) -> str:
    """Push one WebAssembly artifact; returns the manifest digest."""
    headers = oci_auth(registry, repository)
    config = json.dumps(
        {
            "created": iso_time(source_date_epoch()),
            "architecture": "wasm",
            "os": "wasip2",
            "layerDigests": [_digest(wasm)],
        },
        sort_keys=True,
    ).encode()
    for blob in (config, wasm):
        status, reply_headers, _ = _http(
            "POST", f"{registry}/v2/{repository}/blobs/uploads/", b"", headers, what="oci push"
        )
        location = reply_headers.get("Location") or reply_headers.get("location")
        if status != 202 or not location:
            raise PublishError(f"oci push: the registry started no upload (HTTP {status})")
        location = urllib.parse.urljoin(registry + "/", location)
        sep = "&" if "?" in location else "?"
        _http(
            "PUT",
            f"{location}{sep}digest={urllib.parse.quote(_digest(blob))}",
            blob,
            {**headers, "Content-Type": "application/octet-stream"},
            what="oci push",
        )
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": WASM_CONFIG, "digest": _digest(config), "size": len(config)},
            "layers": [
                {
                    "mediaType": WASM_LAYER,
                    "digest": _digest(wasm),
                    "size": len(wasm),
                    "annotations": {"org.opencontainers.image.title": title},
                }
            ],
            "annotations": {
                "org.opencontainers.image.version": version,
                "org.opencontainers.image.title": title,
            },
        },
        sort_keys=True,
    ).encode()
    _http(
        "PUT",
        f"{registry}/v2/{repository}/manifests/{tag}",
        manifest,
        {**headers, "Content-Type": OCI_MANIFEST},
        what="oci push",
    )
    return _digest(manifest)


def encode_wit_package(release: Release) -> bytes:
    """The release's WIT as a WIT package encoded in a component (as wasm-pkg publishes it)."""
    wasm_tools = shutil.which("wasm-tools")
    if wasm_tools is None:
        raise UsageError("publishing the WIT package to OCI needs `wasm-tools` on PATH")
    wit = release.root / "rust" / "wit"
    if not wit.is_dir():
        wit = release.root / "go" / "wit"
    if not wit.is_dir():
        raise UsageError(f"the release in {release.root} ships no WIT (release a guest SDK)")
    with tempfile.TemporaryDirectory(prefix="witgen-oci-") as tmp:
        out = Path(tmp) / "package.wasm"
        _run(
            [wasm_tools, "component", "wit", str(wit), "--wasm", "-o", str(out)], what="encode WIT"
        )
        return out.read_bytes()


def publish_oci(release: Release, url: str, components: dict[str, Path], log: Log) -> None:
    registry, prefix = _oci_base(url)
    ns, name = release.package.split(":", 1)

    def repo(*parts: str) -> str:
        return "/".join(p for p in (prefix, *parts) if p)

    items = [(repo(ns, name), encode_wit_package(release), f"{release.package}@{release.version}")]
    for cname, path in sorted(components.items()):
        try:
            items.append((repo(cname), path.read_bytes(), cname))
        except OSError as err:
            raise UsageError(f"--component {cname}={path}: {err.strerror}") from None
    for repository, wasm, title in items:
        digest = oci_push_wasm(
            registry, repository, release.version, wasm, title=title, version=release.version
        )
        log(f"oci: pushed {repository}:{release.version} ({digest})")


def publish(
    release: Release,
    registries: list[tuple[str, str]],
    *,
    components: dict[str, Path] | None = None,
    log: Log = print,
) -> None:
    for kind, location in registries:
        if kind == "npm":
            publish_npm(release, location, log)
        elif kind == "pypi":
            publish_pypi(release, location, log)
        elif kind == "cargo":
            publish_cargo(release, location, log)
        elif kind == "go":
            publish_go(release, location, log)
        elif kind == "oci":
            publish_oci(release, location, components or {}, log)
