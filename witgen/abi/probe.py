"""Probe components: component WAT generated from the IR and the ABI layer, to check our
lifting and lowering against a real runtime (wasmtime) in both directions.

A probe for a signature `(p0: T0, p1: T1, ...) -> R` is a component whose core module keeps a
bump heap and a table of 64-bit "slots" (one per flat value) in its memory, and which offers:

- `take(p0, p1, ...)`, lifted: the runtime lowers the arguments into the guest; the core
  function stores its raw core arguments in the slots. `dump()` then returns memory from 0 to
  the heap top, so Python can lift the arguments with OUR `lift_params` (export direction).
- `prepare(image, slots)` then `make() -> R`, lifted: Python lowers a value with OUR
  `lower_results` into a memory image placed at `IMAGE_BASE`; `make` returns the slots as
  its core results, and the runtime lifts them (returned-pointer results included).
- `relay()`: calls the imported `sink(p0, p1, ...)` with the core arguments in the slots (after
  `prepare`), so the runtime lifts arguments OUR `lower_params` (import direction) produced.
- `pull()`: calls the imported `source() -> R` (the runtime lowers the host's value into the
  guest, through a retptr when needed) and stores the core results or the retptr in the slots,
  so OUR `lift_results` (import direction) can be checked against the host's value.

Memory map: slots at 0 (8 bytes each), the dump's return area at `DUMP_AREA`, the heap
(the runtime's `cabi_realloc` allocations) from `HEAP_BASE` up to `IMAGE_BASE`, and the image
of values Python lowered from `IMAGE_BASE` to `MEMORY_SIZE`. Handles are not supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from witgen import ir
from witgen.abi.codec import M32, M64, f32_bits, f32_from_bits, f64_bits, f64_from_bits
from witgen.abi.memory import BytesMemory
from witgen.abi.layout import Layouts, MAX_FLAT_PARAMS
from witgen.abi.signature import core_signature

PAGE = 65536
SLOT_COUNT = 32
DUMP_AREA = 8 * SLOT_COUNT
RETAREA_PTR_SLOT = SLOT_COUNT - 1  # where `pull` records its return area
HEAP_BASE = 1024
IMAGE_BASE = 16 * PAGE
MEMORY_PAGES = 32
MEMORY_SIZE = MEMORY_PAGES * PAGE


class ProbeUnsupported(ValueError):
    """The type cannot be probed (resources and handles, futures, streams, error-context)."""


@dataclass(frozen=True)
class ProbeSpec:
    """What a generated probe expects: its WIT signature and its core signatures."""

    params: tuple[ir.Type, ...]
    result: ir.Type
    # Synthetic functions with the probe's signatures, for `witgen.abi.calls`:
    take: ir.Function  # export  take(params)
    make: ir.Function  # export  make() -> result
    sink: ir.Function  # import  sink(params)
    source: ir.Function  # import  source() -> result
    string_encoding: str
    wat: str


class _TypeWriter:
    """Component-level type definitions for IR types, in dependency order.

    Records, variants, enums and flags are nominal in components: they are imported (with an
    `eq` bound to their definition) so that both the imports and the exports may use them.
    """

    def __init__(self, resolve: ir.Resolve):
        self.resolve = resolve
        self.lines: list[str] = []
        self.refs: dict[int, str] = {}
        self.exports: list[str] = []

    def ref(self, ty: ir.Type) -> str:
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            if ty == "error-context":
                raise ProbeUnsupported("error-context cannot be probed")
            return ty
        if ty in self.refs:
            return self.refs[ty]
        kind = self.resolve.types[ty].kind
        nominal = False
        if isinstance(kind, ir.Record):
            body = (
                "(record "
                + " ".join(f'(field "{f.name}" {self.ref(f.type)})' for f in kind.fields)
                + ")"
            )
            nominal = True
        elif isinstance(kind, ir.Variant):
            cases = []
            for c in kind.cases:
                payload = f" {self.ref(c.type)}" if c.type is not None else ""
                cases.append(f'(case "{c.name}"{payload})')
            body = "(variant " + " ".join(cases) + ")"
            nominal = True
        elif isinstance(kind, ir.Enum):
            body = "(enum " + " ".join(f'"{c.name}"' for c in kind.cases) + ")"
            nominal = True
        elif isinstance(kind, ir.Flags):
            body = "(flags " + " ".join(f'"{f.name}"' for f in kind.flags) + ")"
            nominal = True
        elif isinstance(kind, ir.Tuple):
            body = "(tuple " + " ".join(self.ref(t) for t in kind.types) + ")"
        elif isinstance(kind, ir.List):
            body = f"(list {self.ref(kind.type)})"
        elif isinstance(kind, ir.Option):
            body = f"(option {self.ref(kind.type)})"
        elif isinstance(kind, ir.Result):
            parts = []
            if kind.ok is not None:
                parts.append(self.ref(kind.ok))
            if kind.err is not None:
                parts.append(f"(error {self.ref(kind.err)})")
            body = "(result" + "".join(" " + p for p in parts) + ")"
        else:
            raise ProbeUnsupported(f"{type(kind).__name__} types cannot be probed")
        name = f"$t{ty}"
        if nominal:
            self.lines.append(f"(type {name}-def {body})")
            self.lines.append(f'(import "t{ty}" (type {name} (eq {name}-def)))')
            self.exports.append(f'(export "t{ty}" (type {name}))')
        else:
            self.lines.append(f"(type {name} {body})")
        self.refs[ty] = name
        return name


def _store_slot(index: int, core_type: str, local: int) -> str:
    value = f"(local.get {local})"
    if core_type == "i32":
        value = f"(i64.extend_i32_u {value})"
    elif core_type == "f32":
        value = f"(i64.extend_i32_u (i32.reinterpret_f32 {value}))"
    elif core_type == "f64":
        value = f"(i64.reinterpret_f64 {value})"
    return f"(i64.store (i32.const {8 * index}) {value})"


def _load_slot(index: int, core_type: str) -> str:
    value = f"(i64.load (i32.const {8 * index}))"
    if core_type == "i32":
        return f"(i32.wrap_i64 {value})"
    if core_type == "f32":
        return f"(f32.reinterpret_i32 (i32.wrap_i64 {value}))"
    if core_type == "f64":
        return f"(f64.reinterpret_i64 {value})"
    return value


def _sig(types: tuple[str, ...], kind: str) -> str:
    return f"({kind} {' '.join(types)})" if types else ""


def synthetic_function(
    name: str, params: tuple[ir.Type, ...], result: ir.Type | None
) -> ir.Function:
    """A freestanding function `name: func(p0: T0, ...) -> R` that exists only in a probe."""
    return ir.Function(
        name=name,
        kind="freestanding",
        resource=None,
        params=tuple(ir.Param(f"p{i}", t) for i, t in enumerate(params)),
        result=result,
    )


def _indent(lines: list[str], n: int = 2) -> str:
    return "\n".join(" " * n + line for line in lines)


def generate_probe(
    layouts: Layouts,
    params: tuple[ir.Type, ...],
    result: ir.Type,
    string_encoding: str = "utf8",
) -> ProbeSpec:
    """The probe component (as WAT text) for parameters `params` and result type `result`."""
    if not params:
        raise ProbeUnsupported("a probe needs at least one parameter")
    take = synthetic_function("take", params, None)
    make = synthetic_function("make", (), result)
    sink = synthetic_function("sink", params, None)
    source = synthetic_function("source", (), result)
    take_sig = core_signature(layouts, take, "export")
    make_sig = core_signature(layouts, make, "export")
    sink_sig = core_signature(layouts, sink, "import")
    source_sig = core_signature(layouts, source, "import")
    if len(take_sig.params) > MAX_FLAT_PARAMS or len(sink_sig.params) > MAX_FLAT_PARAMS:
        raise AssertionError("flattened parameters above the limit")  # spilled to memory
    writer = _TypeWriter(layouts.resolve)
    param_refs = [writer.ref(t) for t in params]
    result_ref = writer.ref(result)
    wit_params = " ".join(f'(param "p{i}" {r})' for i, r in enumerate(param_refs))
    wit_result = f"(result {result_ref})"
    opts = f"(memory $mem) (realloc $realloc) string-encoding={string_encoding}"

    take_body = [_store_slot(i, t, i) for i, t in enumerate(take_sig.params)]
    make_body = [_load_slot(i, t) for i, t in enumerate(make_sig.results)]
    relay_args = " ".join(_load_slot(i, t) for i, t in enumerate(sink_sig.params))
    if source_sig.results_indirect and source_sig.result_area is not None:
        area = source_sig.result_area
        pull_body = [
            "(local $ret i32)",
            f"(local.set $ret (call $realloc (i32.const 0) (i32.const 0) "
            f"(i32.const {area.align}) (i32.const {area.size})))",
            f"(i64.store (i32.const {8 * RETAREA_PTR_SLOT}) (i64.extend_i32_u (local.get $ret)))",
            "(call $source (local.get $ret))",
        ]
    else:
        (rt,) = source_sig.results
        pull_body = [f"(local $r {rt})", "(local.set $r (call $source))", _store_slot(0, rt, 0)]

    lines = [
        "(component",
        _indent(writer.lines),
        f'  (import "sink" (func $sink {wit_params}))',
        f'  (import "source" (func $source {wit_result}))',
        "  (core module $m",
        f'    (memory (export "memory") {MEMORY_PAGES})',
        f"    (global $heap (mut i32) (i32.const {HEAP_BASE}))",
        '    (func $realloc (export "cabi_realloc")',
        "      (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)",
        "      (result i32)",
        "      (local $ptr i32)",
        "      (local.set $ptr (i32.and",
        "        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))",
        "        (i32.sub (i32.const 0) (local.get $align))))",
        "      (global.set $heap (i32.add (local.get $ptr) (local.get $size)))",
        f"      (if (i32.gt_u (global.get $heap) (i32.const {IMAGE_BASE})) (then unreachable))",
        "      (if (local.get $old) (then",
        "        (memory.copy (local.get $ptr) (local.get $old)",
        "          (select (local.get $old_size) (local.get $size)",
        "            (i32.lt_u (local.get $old_size) (local.get $size))))))",
        "      (local.get $ptr))",
        f'    (func (export "reset") (global.set $heap (i32.const {HEAP_BASE})))',
        f'    (func (export "take") {_sig(take_sig.params, "param")}',
        _indent(take_body, 6) + ")",
        f'    (func (export "make") {_sig(make_sig.results, "result")}',
        _indent(make_body, 6) + ")",
        '    (func (export "dump") (result i32)',
        f"      (i32.store (i32.const {DUMP_AREA}) (i32.const 0))",
        f"      (i32.store (i32.const {DUMP_AREA + 4}) (global.get $heap))",
        f"      (i32.const {DUMP_AREA}))",
        '    (func (export "prepare")',
        "      (param $image i32) (param $image_len i32) (param $slots i32) (param $count i32)",
        f"      (memory.copy (i32.const {IMAGE_BASE}) (local.get $image) (local.get $image_len))",
        "      (memory.copy (i32.const 0) (local.get $slots)",
        "        (i32.mul (local.get $count) (i32.const 8)))))",
        "  (core instance $i (instantiate $m))",
        '  (alias core export $i "memory" (core memory $mem))',
        '  (alias core export $i "cabi_realloc" (core func $realloc))',
        f"  (core func $sink_lowered (canon lower (func $sink) {opts}))",
        f"  (core func $source_lowered (canon lower (func $source) {opts}))",
        "  (core module $calls",
        f'    (import "" "sink" (func $sink {_sig(sink_sig.params, "param")}))',
        f'    (import "" "source" (func $source {_sig(source_sig.params, "param")} '
        f'{_sig(source_sig.results, "result")}))',
        '    (import "" "realloc" (func $realloc (param i32 i32 i32 i32) (result i32)))',
        '    (import "" "memory" (memory 1))',
        f'    (func (export "relay") (call $sink {relay_args}))',
        '    (func (export "pull")',
        _indent(pull_body, 6) + "))",
        '  (core instance $c (instantiate $calls (with "" (instance',
        '    (export "sink" (func $sink_lowered))',
        '    (export "source" (func $source_lowered))',
        '    (export "realloc" (func $realloc))',
        '    (export "memory" (memory $mem))))))',
        _indent(writer.exports),
    ]
    exports = [
        ("take", f"(func {wit_params})", "$i", "take", True),
        ("make", f"(func {wit_result})", "$i", "make", True),
        ("reset", "(func)", "$i", "reset", False),
        ("dump", "(func (result (list u8)))", "$i", "dump", True),
        (
            "prepare",
            '(func (param "image" (list u8)) (param "slots" (list u64)))',
            "$i",
            "prepare",
            True,
        ),
        ("relay", "(func)", "$c", "relay", False),
        ("pull", "(func)", "$c", "pull", False),
    ]
    for name, functype, inst, core_name, needs_memory in exports:
        options = f" {opts}" if needs_memory else ""
        lines.append(f"  (type $ft-{name} {functype})")
        lines.append(f'  (alias core export {inst} "{core_name}" (core func $core-{name}))')
        lines.append(
            f"  (func $f-{name} (type $ft-{name}) (canon lift (core func $core-{name}){options}))"
        )
        lines.append(f'  (export "{name}" (func $f-{name}))')
    lines.append(")")
    return ProbeSpec(
        params=params,
        result=result,
        take=take,
        make=make,
        sink=sink,
        source=source,
        string_encoding=string_encoding,
        wat="\n".join(line for line in lines if line.strip()),
    )


# ---------------------------------------------------------------------------- running probes


def slots_from_flat(flat: list[Any], core_types: tuple[str, ...]) -> list[int]:
    """Encode flat values as the probe's 64-bit slots."""
    out = []
    for v, t in zip(flat, core_types):
        if t == "f32":
            out.append(f32_bits(float(v)))
        elif t == "f64":
            out.append(f64_bits(float(v)))
        else:
            out.append(int(v) & (M32 if t == "i32" else M64))
    return out


def flat_from_slots(data: bytes, core_types: tuple[str, ...], first: int = 0) -> list[Any]:
    """Decode the probe's slots (at the start of a memory dump) into flat values."""
    out: list[Any] = []
    for i, t in enumerate(core_types):
        raw = int.from_bytes(data[8 * (first + i) : 8 * (first + i + 1)], "little")
        if t == "f32":
            out.append(f32_from_bits(raw))
        elif t == "f64":
            out.append(f64_from_bits(raw))
        else:
            out.append(raw & (M32 if t == "i32" else M64))
    return out


class ProbeRunner:
    """A probe compiled and instantiated in wasmtime, with one operation per direction.

    Values handed to and received from wasmtime are in wasmtime-py's own value model
    (`witgen.abi.wasmtime_values` converts); flat values and memories are ours.
    """

    def __init__(self, spec: ProbeSpec, layouts: Layouts, engine: Any = None):
        import wasmtime
        import wasmtime.component as wc

        self.spec = spec
        self.layouts = layouts
        self.engine = engine if engine is not None else wasmtime.Engine()
        self.component = wc.Component(self.engine, spec.wat)
        self.store = wasmtime.Store(self.engine)
        self.received: tuple[Any, ...] | None = None
        self.to_return: Any = None
        linker = wc.Linker(self.engine)
        with linker.root() as root:
            root.add_func("sink", self._sink)
            root.add_func("source", self._source)
        instance = linker.instantiate(self.store, self.component)
        self._funcs: dict[str, Any] = {
            name: instance.get_func(self.store, name)
            for name in ("take", "make", "reset", "dump", "prepare", "relay", "pull")
        }
        self.take_sig = core_signature(layouts, spec.take, "export")
        self.make_sig = core_signature(layouts, spec.make, "export")
        self.sink_sig = core_signature(layouts, spec.sink, "import")
        self.source_sig = core_signature(layouts, spec.source, "import")

    def _sink(self, _store: Any, *args: Any) -> None:
        self.received = args

    def _source(self, _store: Any) -> Any:
        return self.to_return

    def _call(self, name: str, *args: Any) -> Any:
        return self._funcs[name](self.store, *args)

    def _dump(self) -> BytesMemory:
        data = self._call("dump")
        return BytesMemory(bytes(data))

    @staticmethod
    def image_memory() -> BytesMemory:
        """A memory to lower into: its allocations land where `prepare` puts the image."""
        return BytesMemory(IMAGE_BASE + PAGE, heap_start=IMAGE_BASE, max_size=MEMORY_SIZE)

    def _prepare(self, memory: BytesMemory, flat: list[Any], core_types: tuple[str, ...]) -> None:
        image = bytes(memory.buf[IMAGE_BASE : memory.heap])
        self._call("reset")
        self._call("prepare", image, slots_from_flat(flat, core_types))

    # -- the four directions --

    def runtime_lowers_params(self, args: tuple[Any, ...]) -> tuple[list[Any], BytesMemory]:
        """wasmtime lowers `args` into `take`: (the core arguments, guest memory)."""
        self._call("reset")
        self._call("take", *args)
        memory = self._dump()
        return flat_from_slots(bytes(memory.buf), self.take_sig.params), memory

    def runtime_lifts_result(self, memory: BytesMemory, core_results: list[Any]) -> Any:
        """wasmtime lifts `make`'s result from our core results and memory image."""
        self._prepare(memory, core_results, self.make_sig.results)
        return self._call("make")

    def runtime_lifts_params(self, memory: BytesMemory, core_args: list[Any]) -> tuple[Any, ...]:
        """wasmtime lifts the arguments of the imported `sink` from our core arguments."""
        self.received = None
        self._prepare(memory, core_args, self.sink_sig.params)
        self._call("relay")
        assert self.received is not None
        return self.received

    def runtime_lowers_result(self, value: Any) -> tuple[list[Any], int | None, BytesMemory]:
        """wasmtime lowers `value` as the imported `source`'s result: (core results, retptr,
        guest memory)."""
        self.to_return = value
        self._call("reset")
        self._call("pull")
        memory = self._dump()
        data = bytes(memory.buf)
        if self.source_sig.results_indirect:
            retptr = flat_from_slots(data, ("i32",), RETAREA_PTR_SLOT)[0]
            return [], int(retptr), memory
        return flat_from_slots(data, self.source_sig.results), None, memory


def generate_list_echo(layouts: Layouts, element: ir.Type) -> str:
    """A component exporting `echo: func(items: list<T>) -> list<T>` that hands the list
    straight back (for measuring a runtime's own value conversion)."""
    writer = _TypeWriter(layouts.resolve)
    elem_ref = writer.ref(element)
    lines = [
        "(component",
        _indent(writer.lines),
        "  (core module $m",
        f'    (memory (export "memory") {MEMORY_PAGES})',
        f"    (global $heap (mut i32) (i32.const {HEAP_BASE}))",
        '    (func $realloc (export "cabi_realloc")',
        "      (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)",
        "      (result i32)",
        "      (local $ptr i32)",
        "      (local.set $ptr (i32.and",
        "        (i32.add (global.get $heap) (i32.sub (local.get $align) (i32.const 1)))",
        "        (i32.sub (i32.const 0) (local.get $align))))",
        "      (global.set $heap (i32.add (local.get $ptr) (local.get $size)))",
        "      (if (i32.gt_u (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))",
        "        (then (drop (memory.grow (i32.add (i32.const 1) (i32.shr_u",
        "          (i32.sub (global.get $heap) (i32.mul (memory.size) (i32.const 65536)))",
        "          (i32.const 16)))))))",
        "      (local.get $ptr))",
        '    (func (export "echo") (param i32 i32) (result i32)',
        f"      (i32.store (i32.const {DUMP_AREA}) (local.get 0))",
        f"      (i32.store (i32.const {DUMP_AREA + 4}) (local.get 1))",
        f"      (i32.const {DUMP_AREA}))",
        '    (func (export "reset") (global.set $heap (i32.const 1024))))',
        "  (core instance $i (instantiate $m))",
        '  (alias core export $i "memory" (core memory $mem))',
        '  (alias core export $i "cabi_realloc" (core func $realloc))',
        _indent(writer.exports),
        f'  (type $ft-echo (func (param "items" (list {elem_ref})) (result (list {elem_ref}))))',
        '  (alias core export $i "echo" (core func $core-echo))',
        "  (func $f-echo (type $ft-echo) (canon lift (core func $core-echo)",
        "    (memory $mem) (realloc $realloc) string-encoding=utf8))",
        '  (export "echo" (func $f-echo))',
        '  (alias core export $i "reset" (core func $core-reset))',
        "  (func $f-reset (canon lift (core func $core-reset)))",
        '  (export "reset" (func $f-reset))',
        ")",
    ]
    return "\n".join(line for line in lines if line.strip())
