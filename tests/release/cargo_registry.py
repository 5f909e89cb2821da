"""A small Cargo alternative registry for the tests: a sparse index and the publish API.

It implements what Cargo needs and nothing more (https://doc.rust-lang.org/cargo/reference/
registry-web-api.html and registry-index.html): `GET /index/config.json`, index files at
`/index/1/a`, `/index/2/ab`, `/index/3/a/abc`, `/index/ab/cd/abcd...`, `PUT /api/v1/crates/new`
(token checked) and `GET /api/v1/crates/NAME/VERSION/download`. Crates live in memory.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def index_path(name: str) -> str:
    name = name.lower()
    if len(name) <= 2:
        return f"{len(name)}/{name}"
    if len(name) == 3:
        return f"3/{name[0]}/{name}"
    return f"{name[:2]}/{name[2:4]}/{name}"


class CargoRegistry:
    def __init__(self, token: str = "secret-token") -> None:
        self.token = token
        self.index: dict[str, list[dict[str, Any]]] = {}
        self.crates: dict[tuple[str, str], bytes] = {}
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path == "/index/config.json":
                    doc = {"dl": f"{registry.url}/api/v1/crates", "api": registry.url}
                    return self.reply(200, json.dumps(doc).encode())
                if path.startswith("/index/"):
                    name = path.rsplit("/", 1)[-1]
                    lines = registry.index.get(name.lower())
                    if lines is None or path != f"/index/{index_path(name)}":
                        return self.reply(404, b"not found", "text/plain")
                    body = "".join(json.dumps(line) + "\n" for line in lines).encode()
                    return self.reply(200, body, "text/plain")
                parts = path.strip("/").split("/")
                if (
                    len(parts) == 6
                    and parts[:3] == ["api", "v1", "crates"]
                    and parts[5] == "download"
                ):
                    data = registry.crates.get((parts[3].lower(), parts[4]))
                    if data is None:
                        return self.reply(404, b"not found", "text/plain")
                    return self.reply(200, data, "application/x-tar")
                self.reply(404, b"not found", "text/plain")

            def do_PUT(self) -> None:  # noqa: N802
                if self.path != "/api/v1/crates/new":
                    return self.reply(404, b"not found", "text/plain")
                if self.headers.get("Authorization") != registry.token:
                    err = {"errors": [{"detail": "missing or wrong token"}]}
                    return self.reply(403, json.dumps(err).encode())
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                n = int.from_bytes(body[:4], "little")
                meta = json.loads(body[4 : 4 + n])
                m = int.from_bytes(body[4 + n : 8 + n], "little")
                crate = body[8 + n : 8 + n + m]
                name, version = meta["name"], meta["vers"]
                if (name.lower(), version) in registry.crates:
                    err = {"errors": [{"detail": f"crate version `{name}@{version}` exists"}]}
                    return self.reply(200, json.dumps(err).encode())
                registry.crates[(name.lower(), version)] = crate
                registry.index.setdefault(name.lower(), []).append(
                    {
                        "name": name,
                        "vers": version,
                        "deps": meta["deps"],
                        "cksum": hashlib.sha256(crate).hexdigest(),
                        "features": meta["features"],
                        "yanked": False,
                        "links": meta.get("links"),
                    }
                )
                self.reply(200, json.dumps({"warnings": {}}).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CargoRegistry:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
