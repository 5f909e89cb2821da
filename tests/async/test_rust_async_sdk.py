"""The Rust SDK generated for async exports (the 1.1.0 streaming worlds).

tests/async/test_rust_guest.py runs guests built on it; here: it is laid out as rustfmt lays it
out and clippy-clean, and async resource functions are generated.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rust_source
from conftest import require_tool
from witgen import backends, frontend, ir
from witgen.abi.async_payloads import Payload, payloads
from witgen.abi.codec import AbiContext
from witgen.abi.layout import Layouts
from witgen.backends.rust import generator as rust_generator
from witgen.hostrt import _async


@pytest.fixture(scope="module")
def sdk() -> Path:
    rust_source.write_sdk()
    return rust_source.SDK_DIR


def test_the_sdk_ships_the_async_runtime_and_the_payload_types(sdk: Path) -> None:
    source = (sdk / "src" / "streaming_source_plugin.rs").read_text(encoding="utf-8")
    runtime = rust_generator.ASYNC_RUNTIME.read_text(encoding="utf-8")
    assert (sdk / "src" / "async_rt.rs").read_text(encoding="utf-8") == runtime
    # the import names wit-component gives the stream (0) and the future (1) of `read`
    for name in (
        "[stream-new-0]read",
        "[async-lower][stream-write-0]read",
        "[future-new-1]read",
        "[async-lower][future-write-1]read",
        "[task-return]read",
    ):
        assert f'#[link_name = "{name}"]' in source
    assert '"[async-lift]dataflare:core/streaming-source@1.1.0#read"' in source
    assert '"[callback][async-lift]dataflare:core/streaming-source@1.1.0#read"' in source


def test_the_sdks_are_laid_out_as_rustfmt_would(sdk: Path, tmp_path: Path) -> None:
    """The streaming SDK, and those of broad.wit and edge.wit."""
    rustfmt = require_tool("rustfmt")
    files = sorted(str(p) for p in (sdk / "src").rglob("*.rs"))
    for name in ("broad", "edge"):
        wit = rust_source.ROOT / "tests" / "async" / "wit" / f"{name}.wit"
        resolve = frontend.load(wit)
        worlds = [i for i, w in enumerate(resolve.worlds) if w.name == name]
        options = backends.GenerateOptions(f"{name}.wit", f"{name}-sdk")
        out = tmp_path / name
        rust_source.rust.write_sdk(out, rust_generator.generate(resolve, worlds, options))
        files += sorted(str(p) for p in (out / "src").rglob("*.rs"))
    proc = subprocess.run(
        [rustfmt, "--check", "--edition", "2021", *files], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]


def test_the_sdk_is_clippy_clean(sdk: Path) -> None:
    cargo = require_tool("cargo")
    require_tool("cargo-clippy")
    target = rust_source.ROOT / "target" / "rust-host"  # the corpus test's host target dir
    env = dict(os.environ, CARGO_TARGET_DIR=str(target))
    env.pop("RUSTC", None)
    proc = subprocess.run(
        [cargo, "clippy", "--quiet", "--all-features", "--", "-D", "warnings"],
        cwd=sdk,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]


def test_async_resource_functions_are_generated(tmp_path: Path) -> None:
    """Async methods and statics of imported and exported resources: imported ones are `async
    fn`s of the handle type (`[async-lower][method]r.m`), exported ones functions of the
    resource's trait returning a future, lifted with `[async-lift]` + `[callback]`, each with
    its own `task_return_<resource>_<name>` (tests/async/test_rust_async_resources.py runs them)."""
    path = tmp_path / "t.wit"
    path.write_text(
        "package t:x;\n"
        "interface i { resource r { m: async func(a: string) -> u32; s: static async func(); } }\n"
        "interface e { resource r { constructor(); m: async func(a: string) -> u32;\n"
        "  s: static async func() -> r; } }\n"
        "world w { import i; export e; }\n",
        encoding="utf-8",
    )
    resolve = frontend.load(path, all_features=True)
    main = resolve.main_package
    assert main is not None
    worlds = sorted(resolve.packages[main].worlds.values())
    files = rust_generator.generate(resolve, worlds, backends.GenerateOptions(source="t.wit"))
    text = "\n".join(files.values())
    assert "pub async fn m(&self, a: &str) -> u32 {" in text
    assert "pub async fn s() {" in text
    assert '#[link_name = "[async-lower][method]r.m"]' in text
    assert '#[link_name = "[async-lower][static]r.s"]' in text
    assert "fn m(&self, a: String) -> impl core::future::Future<Output = ()> + '_;" in text
    assert "fn s() -> impl core::future::Future<Output = ()> + 'static;" in text
    assert "pub fn task_return_r_m(value: u32) {" in text
    assert "pub fn task_return_r_s(value: R) {" in text
    assert '#[export_name = "[async-lift]t:x/e#[method]r.m"]' in text
    assert '#[export_name = "[callback][async-lift]t:x/e#[static]r.s"]' in text
    assert '#[link_name = "[task-return][method]r.m"]' in text


BROAD_WIT = rust_source.ROOT / "tests" / "async" / "wit" / "broad.wit"
BROAD_SDK = rust_source.rust.TARGET_DIR / "async-broad-sdk"  # tests/async/rust_broad uses it


def build_broad() -> Path:
    """tests/async/rust_broad on the SDK generated from broad.wit, made a component (`component
    new` checks every core import and export name and signature against the WIT)."""
    return rust_source.build_guest(
        BROAD_WIT, "broad", (BROAD_SDK, "broad-sdk"), "rust_broad", "async-broad"
    )


@pytest.fixture(scope="module")
def broad() -> Path:
    rust_source.require_rust()
    return build_broad()


def test_every_future_stream_and_async_shape_makes_a_component(broad: Path) -> None:
    tool = require_tool("wasm-tools")
    done = subprocess.run([tool, "component", "wit", str(broad)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    wit = done.stdout
    assert (
        "split: async func(bytes: stream<u8>, sizes: future<list<u32>>) -> stream<string>;" in wit
    )
    assert "export top: async func(n: u32) -> future<string>;" in wit


PIPES = "t:async-broad/pipes"


class BroadHost:
    """`split` and `top` of the broad guest bound for the async host (as rust_source binds the
    streaming source): payload types and codecs from the canonical-ABI layer."""

    def __init__(self, component: bytes) -> None:
        resolve = frontend.load(BROAD_WIT)
        layouts = Layouts(resolve)
        pipes = next(i for i in resolve.interfaces if i.name == "pipes")
        split = pipes.functions["split"]
        world_functions = {
            e.item.function.name: e.item.function
            for e in resolve.worlds[0].exports
            if isinstance(e.item, ir.WorldFunction)
        }
        top, relay = world_functions["top"], world_functions["relay"]
        sink = next(
            e.item.function
            for e in resolve.worlds[0].imports
            if isinstance(e.item, ir.WorldFunction) and e.item.function.name == "sink"
        )
        assert relay.result is not None
        relay_result = relay.result
        plugin = _async.AsyncPlugin.__new__(_async.AsyncPlugin)
        context = AbiContext(layouts, memory=plugin)

        def payload(p: Payload) -> _async.PayloadType:
            element = p.element
            assert element is not None
            lay, typed = layouts.of(element), context.codec(element)
            codec = _async.Codec(
                lay.size,
                lay.align,
                lambda ptr: typed.load(plugin.view(), ptr),
                lambda value, ptr: context.store(value, element, ptr),
            )
            return _async.PayloadType(str(element), codec)

        split_types = {p.index: payload(p) for p in payloads(resolve, split)}
        top_types = {p.index: payload(p) for p in payloads(resolve, top)}
        (sink_payload,) = payloads(resolve, sink)
        sink_type = payload(sink_payload)
        self.writers: list[tuple[Any, Any]] = []
        # when set, `sink` reads only once the gate opens
        self.sink_gate: asyncio.Event | None = None
        self.sinks_cancelled = 0  # `sink` calls the guest cancelled (`subtask.cancel`)

        def lower_split(state: _async.InstanceState, args: Sequence[Any]) -> list[int]:
            data, data_writer = _async.lower_stream(state, split_types[0])
            sizes, sizes_writer = _async.lower_future(state, split_types[1])
            self.writers.append((data_writer, sizes_writer))
            return [data, sizes]

        def lift_split(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
            return _async.lift_stream(state, int(flat[0]), split_types[2])

        def lift_top(state: _async.InstanceState, flat: Sequence[int | float]) -> Any:
            return _async.lift_future(state, int(flat[0]), top_types[0])

        _async.AsyncPlugin.__init__(
            plugin,
            component,
            {
                "split": _async.AsyncExport(
                    f"[async-lift]{PIPES}#split",
                    f"[export]{PIPES}",
                    "split",
                    lower_split,
                    lift_split,
                ),
                "top": _async.AsyncExport(
                    "[async-lift]top",
                    "[export]$root",
                    "top",
                    lambda state, args: [int(args[0])],
                    lift_top,
                ),
                "relay": _async.AsyncExport(
                    "[async-lift]relay",
                    "[export]$root",
                    "relay",
                    lambda state, args: [
                        *context.lower_flat(args[0], "string"),
                        *context.lower_flat(args[1], "u32"),
                    ],
                    lambda state, flat: context.lift_flat(list(flat), relay_result),
                ),
            },
            {
                # every function's payload types: the guest imports the built-ins of all
                **{
                    (PIPES, f.name, p.index): payload(p)
                    for f in pipes.functions.values()
                    for p in payloads(resolve, f)
                },
                **{(PIPES, "split", i): t for i, t in split_types.items()},
                **{("$root", "top", i): t for i, t in top_types.items()},
                ("$root", "sink", sink_payload.index): sink_type,
            },
            {  # the flat results of every async export's task.return (the guest imports all)
                **{
                    (f"[export]{PIPES}", f.name): (
                        () if f.result is None else tuple(layouts.of(f.result).flat)
                    )
                    for f in pipes.functions.values()
                    if f.is_async
                },
                ("[export]$root", "top"): ("i32",),
                ("[export]$root", "relay"): tuple(layouts.of(relay_result).flat),
            },
            imports={
                ("$root", "[async-lower]double"): _async.AsyncImport(
                    ("i32", "i32", "i32", "i32"),
                    lambda state, flat: [
                        plugin.read_text(int(flat[0]), int(flat[1])),
                        int(flat[2]) & 0xFFFFFFFF,
                    ],
                    lambda state, value, ptr: context.store(value, "string", ptr),
                    self.double,
                ),
                ("$root", "[async-lower]sink"): _async.AsyncImport(
                    ("i32", "i32"),
                    lambda state, flat: [_async.lift_stream(state, int(flat[0]), sink_type)],
                    lambda state, value, ptr: plugin.write(ptr, value.to_bytes(4, "little")),
                    self.sink,
                ),
                ("t:async-broad/clock", "[async-lower]now"): _async.AsyncImport(
                    ("i32", "i32"),
                    lambda state, flat: [int(flat[0]) & 0xFFFFFFFF],
                    lambda state, value, ptr: plugin.write(ptr, value.to_bytes(8, "little")),
                    self.now,
                ),
            },
        )
        self.plugin = plugin

    async def double(self, s: str, n: int) -> str:
        await asyncio.sleep(0)  # the guest waits for the subtask
        return s * 2 + str(n)

    async def now(self, after_ms: int) -> int:
        await asyncio.sleep(0)
        return 1_000_000 + after_ms

    async def sink(self, data: Any) -> int:
        if self.sink_gate is not None:  # the guest's write waits meanwhile
            try:
                await self.sink_gate.wait()
            except asyncio.CancelledError:
                self.sinks_cancelled += 1
                raise
        got: list[int] = []
        while (part := await data.read(7)) is not None:
            got.extend(part)
        data.close()
        return len(got)

    async def split(self, pieces: list[str]) -> list[str]:
        data = b"".join(p.encode() for p in pieces)
        call = asyncio.ensure_future(self.plugin.call("split"))
        await asyncio.sleep(0)  # the call lowered its stream and future arguments
        data_writer, sizes_writer = self.writers.pop()
        assert await sizes_writer.set([len(p.encode()) for p in pieces])
        assert await data_writer.write(list(data)) == len(data)
        data_writer.close()
        out = await call
        got: list[str] = []
        while (part := await out.read(16)) is not None:
            got.extend(part)
        out.close()
        return got


@pytest.fixture(scope="module")
def broad_host(broad: Path) -> BroadHost:
    return BroadHost(broad.read_bytes())


@settings(max_examples=20)
@given(st.lists(st.text(max_size=12), max_size=40))
def test_split_reads_a_stream_and_a_future_and_writes_a_stream(
    broad_host: BroadHost, pieces: list[str]
) -> None:
    assert asyncio.run(broad_host.split(pieces)) == pieces


@settings(max_examples=10)
@given(st.integers(0, 2**32 - 1))
def test_a_world_level_async_export_returns_a_future(broad_host: BroadHost, n: int) -> None:
    async def body() -> Any:
        future = await broad_host.plugin.call("top", n)
        return await future

    assert asyncio.run(body()) == str(n)


@settings(max_examples=15)
@given(st.text(max_size=20), st.integers(0, 2**32 - 1))
def test_an_async_export_awaits_async_imports(broad_host: BroadHost, s: str, n: int) -> None:
    expected = (s * 2 + str(n), 1_000_000 + n + len(s.encode()))
    assert asyncio.run(broad_host.plugin.call("relay", s, n)) == expected


def test_edge_shapes_compile_clippy_clean() -> None:
    """tests/async/wit/edge.wit (indirect async parameters, resources in async functions,
    futures of futures, streams of streams, sync functions with futures and streams, an imported
    interface with them) with a stub guest: one `cargo clippy` on the host target."""
    cargo = require_tool("cargo")
    require_tool("cargo-clippy")
    sys.path.insert(0, str(rust_source.ROOT / "tests" / "rust"))
    from stubs import stub_source

    wit = rust_source.ROOT / "tests" / "async" / "wit" / "edge.wit"
    resolve = frontend.load(wit)
    worlds = [i for i, w in enumerate(resolve.worlds) if w.name == "edge"]
    options = backends.GenerateOptions("tests/async/wit/edge.wit", "edge-sdk")
    root = rust_source.rust.TARGET_DIR / "async-edge"
    rust_source.rust.write_sdk(root / "edge-sdk", rust_generator.generate(resolve, worlds, options))
    stub = stub_source(resolve, worlds[0], "edge_sdk", worlds)
    manifest = rust_source.rust.guest_manifest("edge-stub", "edge-sdk")
    rust_source.rust.write_sdk(root / "edge-stub", {"Cargo.toml": manifest, "src/lib.rs": stub})
    (root / "Cargo.toml").write_text(
        '[workspace]\nresolver = "2"\nmembers = ["edge-sdk", "edge-stub"]\n', encoding="utf-8"
    )
    env = dict(os.environ, CARGO_TARGET_DIR=str(rust_source.ROOT / "target" / "rust-host"))
    env.pop("RUSTC", None)
    proc = subprocess.run(
        [cargo, "clippy", "--quiet", "--all-features", "--workspace", "--", "-D", "warnings"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-6000:]


ASYNC_WITS = [
    rust_source.ROOT / "tests" / "rust" / "corpus" / "async.wit",
    rust_source.ROOT / "tests" / "async" / "wit" / "tally.wit",
    rust_source.ROOT / "tests" / "async" / "wit" / "edge.wit",
    rust_source.ROOT / "tests" / "async" / "wit" / "broad.wit",
]


@pytest.mark.parametrize("lang", ["go", "typescript"])
@pytest.mark.parametrize("wit", ASYNC_WITS, ids=lambda p: p.stem)
def test_go_and_typescript_refuse_async_by_name(tmp_path: Path, lang: str, wit: Path) -> None:
    """What the Rust backend generates, the Go and TypeScript backends refuse: one located
    error naming the feature and the function or type, exit 1, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", lang, str(wit)]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ")
    assert proc.stderr.count("error:") == 1
    first = proc.stderr.splitlines()[0]
    assert any(word in first for word in ("async", "future", "stream", "error-context")), first
    assert (
        f"--> {wit}:" in proc.stderr or f"--> {wit.relative_to(rust_source.ROOT)}:" in proc.stderr
    )
    assert not (tmp_path / "out").exists()


def test_stream_of_char_is_refused_by_name(tmp_path: Path) -> None:
    """Component-model validation rejects `stream<char>` (UTF-32 elements; wasm-tools 1.262's
    `component new` too): the Rust backend refuses it at the function, exit 1. A `future<char>`
    and a stream of lists of chars are valid and generated."""
    wit = tmp_path / "chars.wit"
    wit.write_text(
        "package t:chars;\n"
        "world w {\n"
        "    export h: func() -> future<char>;\n"
        "    export k: async func() -> stream<list<char>>;\n"
        "    type letter = char;\n"
        "    export f: async func(s: stream<letter>);\n"
        "}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "witgen", "generate", "--lang", "rust", str(wit)]
        + ["--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("error: ") and "`stream<char>` in `f`" in first, first
    assert f"--> {wit}:6:12" in proc.stderr
    assert not (tmp_path / "out").exists()
    wit.write_text(wit.read_text(encoding="utf-8").replace("stream<letter>", "stream<u8>"))
    resolve = frontend.load(wit)
    options = backends.GenerateOptions("chars.wit", "chars-sdk")
    assert "src/lib.rs" in rust_generator.generate(resolve, [0], options)


def test_the_host_cancels_a_task_waiting_for_a_future(broad_host: BroadHost) -> None:
    """`split` reads its `sizes` future first; the host never writes it and cancels the call.
    The guest cancels its read in flight (the buffer goes only after), drops its ends and
    reports `task.cancel`; the instance goes on serving calls."""

    async def body() -> tuple[bool, list[str]]:
        call = await broad_host.plugin.start("split")
        data_writer, sizes_writer = broad_host.writers.pop()
        for _ in range(5):  # the guest reads the future and waits
            await asyncio.sleep(0)
        assert not call.result.done()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        # the guest dropped its readable end: nobody takes the value
        taken = await sizes_writer.set([1])
        data_writer.close()
        return taken, await broad_host.split(["again", "!"])

    taken, pieces = asyncio.run(body())
    assert not taken
    assert pieces == ["again", "!"]


def test_the_host_cancels_a_task_writing_a_stream_to_an_async_import(
    broad_host: BroadHost,
) -> None:
    """`relay` writes a stream to the `sink` import while it waits for it; `sink` does not
    read. The host cancels the call: the guest cancels its write in flight and the subtask
    (the host's coroutine ends cancelled), then reports `task.cancel`; the instance goes on."""

    async def body() -> tuple[int, Any]:
        broad_host.sink_gate = asyncio.Event()  # never set
        try:
            call = await broad_host.plugin.start("relay", "abc", 7)
            for _ in range(20):  # the guest reaches `sink` and its write waits
                await asyncio.sleep(0)
            assert not call.result.done()
            call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            cancelled = broad_host.sinks_cancelled
        finally:
            broad_host.sink_gate = None
        return cancelled, await broad_host.plugin.call("relay", "xy", 2)

    before = broad_host.sinks_cancelled
    cancelled, result = asyncio.run(body())
    assert cancelled == before + 1
    assert result == ("xyxy2", 1_000_000 + 2 + 2)
