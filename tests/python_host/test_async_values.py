"""The value layer of generated async bindings (`witgen/hostrt/_asyncvals.py`).

Generated packages cannot import witgen, so `_asyncvals` computes sizes, alignments and flat
types from the type descriptors itself: every type of the async worlds we keep must get exactly
what witgen's canonical-ABI layer (`witgen.abi.Layouts`) says. Values drawn by Hypothesis for
each descriptor round-trip through guest memory (store, load) and flat values (lower, lift).
"""

from __future__ import annotations

import importlib
import math
import struct
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from witgen import backends, frontend
from witgen.abi import Layouts
from witgen.abi import values as abi_values
from witgen.abi.codec import AbiContext
from witgen.backends.python import generator
from witgen.hostrt import _asyncvals
from witgen.hostrt._runtime import Err, Ok, Some
from witgen.paths import REPO_ROOT

WITS = {
    "shapes_values": REPO_ROOT / "tests" / "python_host" / "wit" / "async_shapes.wit",
    "broad_values": REPO_ROOT / "tests" / "async" / "wit" / "broad.wit",
    "contract_values": REPO_ROOT / "examples" / "contract-1.1.0" / "dataflare.wit",
}


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ModuleType, Any]]:
    out = tmp_path_factory.mktemp("async-values")
    found = {}
    for package, wit in WITS.items():
        resolve = frontend.load(wit)
        worlds = [i for i, w in enumerate(resolve.worlds) if w.package == resolve.main_package]
        options = backends.GenerateOptions(str(wit.relative_to(REPO_ROOT)), package)
        for path, text in generator.generate(resolve, worlds, options).items():
            target = out / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        sys.path.insert(0, str(out))
        found[package] = (importlib.import_module(f"{package}._abi"), resolve)
    return found


def test_layouts_agree_with_the_canonical_abi_layer(
    packages: dict[str, tuple[ModuleType, Any]],
) -> None:
    checked = 0
    for abi, resolve in packages.values():
        layouts = Layouts(resolve)
        for name, desc in vars(abi).items():
            if not (name.startswith("T") and name[1:].isdigit()) or _has_resources(desc):
                continue  # resources: the sync worlds' (async worlds refuse them)
            want = layouts.of(int(name[1:]))
            got = _asyncvals.layout(desc)
            assert (got.size, got.align, got.flat) == (want.size, want.align, tuple(want.flat)), (
                name,
                desc,
            )
            checked += 1
    assert checked > 60, checked


def _has_resources(desc: Any) -> bool:
    if not isinstance(desc, tuple):
        return False
    if desc and desc[0] in ("own", "borrow", "host-own", "host-borrow"):
        return True
    return any(_has_resources(part) for part in desc[1:])


class Memory:
    """A stand-in for `AsyncPlugin`'s memory: a bytearray and a bump allocator."""

    def __init__(self) -> None:
        self.data = bytearray(1 << 20)
        self.top = 8
        self.pending: list[Any] = []

    def view(self) -> memoryview:
        return memoryview(self.data)

    @property
    def buf(self) -> bytearray:  # witgen.abi's `Memory` protocol, for the differential test
        return self.data

    def realloc(self, *args: int) -> int:
        align, size = args[-2:]  # (align, size), or witgen.abi's four arguments
        self.top = -(-self.top // align) * align
        addr, self.top = self.top, self.top + size
        assert self.top <= len(self.data)
        return addr

    def write(self, addr: int, data: bytes) -> None:
        self.data[addr : addr + len(data)] = data

    # `AsyncPlugin`'s deferred allocation: blocks registered, then allocated and copied in order
    def ref(self, parent: bytearray, offset: int, align: int, data: bytes, count: int = -1) -> None:
        self.pending.append((parent, offset, align, data, len(data) if count < 0 else count))

    def allocate(self) -> None:
        for parent, offset, align, data, count in self.pending:
            addr = self.realloc(align, len(data))
            struct.pack_into("<II", parent, offset, addr, count)
            self.write(addr, bytes(data))
        self.pending.clear()

    def read_text(self, addr: int, length: int) -> str:
        return bytes(self.data[addr : addr + length]).decode("utf-8")


def values_for(desc: Any) -> st.SearchStrategy[Any]:
    """Python values of a descriptor's type (without streams, futures or error contexts)."""
    kind = desc[0]
    if kind == "int":
        return st.integers(desc[1], desc[2])
    if kind == "float":
        width = 32 if desc[1] == "f32" else 64
        return st.floats(width=width, allow_nan=False)
    if kind == "bool":
        return st.booleans()
    if kind == "char":
        return st.characters(exclude_categories=["Cs"])
    if kind == "string":
        return st.text(max_size=8)
    if kind == "bytes":
        return st.binary(max_size=8)
    if kind == "list":
        return st.lists(values_for(desc[1]), max_size=3)
    if kind == "tuple":
        return st.tuples(*(values_for(d) for d in desc[1]))
    if kind == "record":
        return st.builds(desc[1], *(values_for(d) for _, _, d in desc[2]))
    if kind == "enum":
        return st.sampled_from(list(desc[1]))
    if kind == "flags":
        members = [m for _, m in desc[2]]
        return st.lists(st.sampled_from(members)).map(
            lambda ms: _flags(desc[1], ms),
        )
    if kind == "option":
        inner = values_for(desc[1])
        return st.none() | (inner.map(Some) if desc[2] else inner)
    if kind == "result":
        ok = st.just(None) if desc[1] is None else values_for(desc[1])
        err = st.just(None) if desc[2] is None else values_for(desc[2])
        return ok.map(Ok) | err.map(Err)
    if kind == "variant":
        return st.one_of(
            *(st.just(cls()) if d is None else values_for(d).map(cls) for _, cls, d in desc[1])
        )
    raise AssertionError(f"no strategy for {desc!r}")


def _flags(cls: Any, members: list[Any]) -> Any:
    out = cls(0)
    for m in members:
        out |= m
    return out


def _plain(desc: Any, seen: frozenset[int] = frozenset()) -> bool:
    """Whether a descriptor's values have no stream, future or error context in them."""
    if not isinstance(desc, tuple):
        return True
    if desc and desc[0] in ("stream", "future", "error-context", "map", "own", "borrow"):
        return False
    return all(_plain(part) for part in desc[1:] if isinstance(part, tuple))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_values_round_trip_through_memory_and_flat_values(
    packages: dict[str, tuple[ModuleType, Any]], data: st.DataObject
) -> None:
    abi, _ = packages["shapes_values"]
    descs = [d for n, d in sorted(vars(abi).items()) if n.startswith("T") and n[1:].isdigit()]
    desc = data.draw(st.sampled_from([d for d in descs if _plain(d)]))
    value = data.draw(values_for(desc))
    memory = Memory()
    values = _asyncvals.Values(memory)  # type: ignore[arg-type]
    lay = values.layout(desc)
    ptr = memory.realloc(lay.align, lay.size)
    values.store(desc, value, ptr)
    assert _same(values.load(desc, memory.view(), ptr), value)
    flat: list[Any] = []
    values.lower_flat(desc, value, flat)
    assert len(flat) == len(lay.flat)
    assert _same(values.lift_flat(desc, iter(flat)), value)


def as_abi(desc: Any, v: Any) -> Any:
    """A bindings value in `witgen.abi`'s value model (records as dicts, variants as
    `VariantValue`, enums and flags by their WIT names, every present option `Some`)."""
    kind = desc[0]
    if kind == "list":
        return [as_abi(desc[1], x) for x in v]
    if kind == "tuple":
        return tuple(as_abi(d, x) for d, x in zip(desc[1], v))
    if kind == "record":
        return {wit: as_abi(d, getattr(v, attr)) for attr, wit, d in desc[2]}
    if kind == "enum":
        return v.value
    if kind == "flags":
        return frozenset(wit for wit, member in desc[2] if member in v)
    if kind == "option":
        if v is None:
            return None
        return abi_values.Some(as_abi(desc[1], v.value if desc[2] else v))
    if kind == "result":
        box = abi_values.Ok if isinstance(v, Ok) else abi_values.Err
        d = desc[1] if isinstance(v, Ok) else desc[2]
        return box(None if d is None else as_abi(d, v.value))
    if kind == "variant":
        for wit, cls, d in desc[1]:
            if type(v) is cls:
                return abi_values.VariantValue(wit, None if d is None else as_abi(d, v.value))
    return v


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_values_agree_with_the_canonical_abi_layer(
    packages: dict[str, tuple[ModuleType, Any]], data: st.DataObject
) -> None:
    """What the bindings store, witgen.abi loads; what witgen.abi stores, the bindings load;
    the bindings' flat values lift in witgen.abi (the variant joins of `mixed` included)."""
    abi, resolve = packages["shapes_values"]
    named = [(int(n[1:]), d) for n, d in vars(abi).items() if n.startswith("T") and n[1:].isdigit()]
    ty, desc = data.draw(st.sampled_from(sorted((t, d) for t, d in named if _plain(d))))
    value = data.draw(values_for(desc))
    memory = Memory()
    values = _asyncvals.Values(memory)  # type: ignore[arg-type]
    context = AbiContext(Layouts(resolve), memory=memory)
    lay = values.layout(desc)
    ptr = memory.realloc(lay.align, lay.size)
    values.store(desc, value, ptr)
    assert context.load(ty, ptr) == as_abi(desc, value)
    other = memory.realloc(lay.align, lay.size)
    context.store(as_abi(desc, value), ty, other)
    assert _same(values.load(desc, memory.view(), other), value)
    flat: list[Any] = []
    values.lower_flat(desc, value, flat)
    assert context.lift_flat(flat, ty) == as_abi(desc, value)
