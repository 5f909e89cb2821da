"""Print a resolved package (`witgen.ir.Resolve`) back as canonical WIT text.

The layout is the one `wasm-tools component wit` prints (two-space indents, one blank line
between items, `use` statements first, docs as `///` lines, stability attributes kept), so that
`witgen fmt` output and wasm-tools output can be compared byte for byte. Printing loses nothing
the IR keeps: the text parses back to the same IR JSON. Comments that are not docs, and
`include`s (already merged into the world), do not survive, as with wasm-tools.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from witgen import ir

INDENT = "  "

# Words the WIT lexer reserves; a name spelled like one must be written `%name`.
KEYWORDS = frozenset("""
    as async bool borrow char constructor enum error-context export f32 f64 flags float32
    float64 from func future import include interface list map option own package record
    resource result s16 s32 s64 s8 static stream string tuple type u16 u32 u64 u8 use variant
    with world
    """.split())


def name(text: str) -> str:
    """An identifier as written in WIT: keywords get a leading `%`."""
    return f"%{text}" if text in KEYWORDS else text


def print_wit(resolve: ir.Resolve, packages: Sequence[int] | None = None) -> str:
    """The main package first (top level), then every other package as a nested
    `package ns:name { ... }` block, in arena order; `packages` limits which packages are
    printed (the main package is always the top-level one)."""
    main = resolve.main_package
    if main is None:
        raise ValueError("the resolve has no main package to print")
    wanted = set(range(len(resolve.packages)) if packages is None else packages)
    out = _Printer(resolve).package(main, nested=False)
    nested = [
        _Printer(resolve).package(p, nested=True)
        for p in range(len(resolve.packages))
        if p != main and p in wanted
    ]
    return out + "\n\n".join(nested)


def rust_lines(text: str) -> list[str]:
    """Split like Rust's `str::lines`: on `\\n`, dropping one trailing `\\r` per line and a
    final empty line."""
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


class _Printer:
    """Accumulates text for one package; `blank_pending` mirrors "an item was printed in
    this block, so the next declaration is preceded by a blank line"."""

    def __init__(self, resolve: ir.Resolve) -> None:
        self.r = resolve
        self.out: list[str] = []
        self.level = 0
        self.any_items = False

    # -- low-level output ---------------------------------------------------------------

    def line(self, text: str) -> None:
        self.out.append(f"{INDENT * self.level}{text}\n" if text else "\n")

    def new_item(self) -> None:
        if self.any_items:
            self.out.append("\n")
        self.any_items = True

    def docs(self, docs: ir.Docs) -> None:
        if docs.contents is None:
            return
        for text in rust_lines(docs.contents):
            self.line(f"/// {text}" if text else "///")

    def stability(self, st: ir.Stability, external_id: str | None = None) -> None:
        if st.kind == "stable":
            self.line(f"@since(version = {st.since})")
        elif st.kind == "unstable":
            self.line(f"@unstable(feature = {st.feature})")
        if st.deprecated is not None:
            self.line(f"@deprecated(version = {st.deprecated})")
        if external_id is not None:
            self.line(f'@external-id("{external_id}")')

    # -- packages -----------------------------------------------------------------------

    def package(self, pid: int, *, nested: bool) -> str:
        pkg = self.r.packages[pid]
        self.docs(pkg.docs)
        header = f"package {self.package_name(pkg)}"
        if not nested:
            self.line(header + ";")
            self.line("")
        else:
            self.line(header + " {")
            self.level += 1
        for iname, iid in pkg.interfaces.items():
            iface = self.r.interfaces[iid]
            self.docs(iface.docs)
            self.stability(iface.stability)
            self.line(f"interface {name(iname)} {{")
            self.block(lambda: self.interface_body(iid))
            self.line("}")
            if not nested:
                self.line("")
        for wname, wid in pkg.worlds.items():
            world = self.r.worlds[wid]
            self.docs(world.docs)
            self.stability(world.stability)
            self.line(f"world {name(wname)} {{")
            self.block(lambda: self.world_body(wid))
            self.line("}")
        if nested:
            self.level -= 1
            self.line("}")
        return "".join(self.out)

    @staticmethod
    def package_name(pkg: ir.Package) -> str:
        ns, rest = pkg.name.split(":", 1)
        short, _, version = rest.partition("@")
        text = f"{name(ns)}:{name(short)}"
        return f"{text}@{version}" if version else text

    def block(self, body: object) -> None:
        saved = self.any_items
        self.any_items = False
        self.level += 1
        body()  # type: ignore[operator]
        self.level -= 1
        self.any_items = saved

    # -- interfaces ---------------------------------------------------------------------

    def interface_body(self, iid: int) -> None:
        iface = self.r.interfaces[iid]
        owner = ir.TypeOwner("interface", iid)
        self.types(owner, iface.types.items(), self.resource_functions(iface.functions.values()))
        for fn in iface.functions.values():
            if fn.resource is not None:
                continue
            self.new_item()
            self.docs(fn.docs)
            self.stability(fn.stability, fn.external_id)
            self.line(f"{name(_plain(fn.name))}: {self.signature(fn)};")

    def resource_functions(self, fns: Iterable[ir.Function]) -> dict[int, list[ir.Function]]:
        by_resource: dict[int, list[ir.Function]] = {}
        for fn in fns:
            if fn.resource is not None:
                by_resource.setdefault(fn.resource, []).append(fn)
        return by_resource

    def types(
        self,
        owner: ir.TypeOwner,
        named: Iterable[tuple[str, int]],
        methods: dict[int, list[ir.Function]],
    ) -> None:
        """`use` statements for types that alias another owner's type, then declarations."""
        uses: list[tuple[ir.TypeOwner, ir.Stability, list[tuple[str, str]], str | None]] = []
        declared: list[int] = []
        for local, tid in named:
            td = self.r.types[tid]
            if isinstance(td.kind, ir.Alias) and isinstance(td.kind.type, int):
                target = self.r.types[td.kind.type]
                if target.owner is not None and target.owner != owner and target.name:
                    if (
                        uses
                        and uses[-1][0] == target.owner
                        and uses[-1][1] == td.stability
                        and uses[-1][3] == td.external_id
                    ):
                        uses[-1][2].append((local, target.name))
                    else:
                        uses.append(
                            (target.owner, td.stability, [(local, target.name)], td.external_id)
                        )
                    continue
            declared.append(tid)
        my_package = self.owner_package(owner)
        for other, st, pairs, external_id in uses:
            self.any_items = True
            self.stability(st, external_id)
            items = ", ".join(
                name(theirs) if mine == theirs else f"{name(theirs)} as {name(mine)}"
                for mine, theirs in pairs
            )
            self.line(f"use {self.interface_path(other.id, my_package)}.{{{items}}};")
        for tid in declared:
            td = self.r.types[tid]
            self.new_item()
            self.docs(td.docs)
            self.stability(td.stability, td.external_id)
            self.declare(tid, methods.get(tid, []))

    def owner_package(self, owner: ir.TypeOwner) -> int | None:
        if owner.kind == "interface":
            return self.r.interfaces[owner.id].package
        return self.r.worlds[owner.id].package

    def interface_path(self, iid: int, from_package: int | None) -> str:
        iface = self.r.interfaces[iid]
        assert iface.name is not None, "only named interfaces can be referred to"
        if iface.package == from_package or iface.package is None:
            return name(iface.name)
        pkg = self.r.packages[iface.package]
        ns, rest = pkg.name.split(":", 1)
        short, _, version = rest.partition("@")
        path = f"{name(ns)}:{name(short)}/{name(iface.name)}"
        return f"{path}@{version}" if version else path

    # -- type declarations --------------------------------------------------------------

    def declare(self, tid: int, methods: list[ir.Function]) -> None:
        td = self.r.types[tid]
        assert td.name is not None
        n = name(td.name)
        kind = td.kind
        if isinstance(kind, ir.Resource):
            self.resource(n, methods)
        elif isinstance(kind, ir.Record):
            self.members(
                f"record {n}",
                ((f.docs, f"{name(f.name)}: {self.type_name(f.type)}") for f in kind.fields),
            )
        elif isinstance(kind, ir.Flags):
            self.members(f"flags {n}", ((f.docs, name(f.name)) for f in kind.flags))
        elif isinstance(kind, ir.Enum):
            self.members(f"enum {n}", ((c.docs, name(c.name)) for c in kind.cases))
        elif isinstance(kind, ir.Variant):
            self.members(
                f"variant {n}",
                (
                    (
                        c.docs,
                        (
                            name(c.name)
                            if c.type is None
                            else f"{name(c.name)}({self.type_name(c.type)})"
                        ),
                    )
                    for c in kind.cases
                ),
            )
        elif isinstance(kind, ir.Handle):
            res = self.r.types[kind.resource].name
            assert res is not None
            self.line(f"type {n} = {kind.kind}<{name(res)}>;")
        else:
            self.line(f"type {n} = {self.anonymous(kind)};")

    def members(self, head: str, members: Iterable[tuple[ir.Docs, str]]) -> None:
        self.line(f"{head} {{")
        self.level += 1
        for docs, text in members:
            self.docs(docs)
            self.line(f"{text},")
        self.level -= 1
        self.line("}")

    def resource(self, n: str, methods: list[ir.Function]) -> None:
        if not methods:
            self.line(f"resource {n};")
            return
        self.line(f"resource {n} {{")
        self.level += 1
        for fn in methods:
            self.docs(fn.docs)
            self.stability(fn.stability, fn.external_id)
            if fn.kind.endswith("constructor"):
                self.line(f"{self.signature(fn)};")
            else:
                static = "static " if "static" in fn.kind else ""
                self.line(f"{name(fn.item_name)}: {static}{self.signature(fn)};")
        self.level -= 1
        self.line("}")

    def signature(self, fn: ir.Function) -> str:
        params = fn.params[1:] if "method" in fn.kind else fn.params
        args = ", ".join(f"{name(p.name)}: {self.type_name(p.type)}" for p in params)
        if fn.kind.endswith("constructor"):
            text = f"constructor({args})"
        elif fn.kind.endswith("getter") or fn.kind.endswith("setter"):
            text = f"{fn.kind[-6:-3]}({args})"  # `get(...)` / `set(...)`"
        else:
            text = f"{'async ' if fn.is_async else ''}func({args})"
        if fn.result is not None and not self.implicit_constructor_result(fn):
            text += f" -> {self.type_name(fn.result)}"
        return text

    def implicit_constructor_result(self, fn: ir.Function) -> bool:
        """A plain `constructor(...)` is stored as returning `own<resource>`."""
        if not fn.kind.endswith("constructor") or fn.result is None:
            return fn.kind.endswith("constructor")
        result = fn.result
        if isinstance(result, int):
            kind = self.r.types[result].kind
            if self.r.types[result].name is None and isinstance(kind, ir.Handle):
                return kind.kind == "own" and kind.resource == fn.resource
        return False

    # -- type expressions ---------------------------------------------------------------

    def type_name(self, ty: ir.Type) -> str:
        if isinstance(ty, str):
            return ty
        td = self.r.types[ty]
        if td.name is not None:
            return name(td.name)
        return self.anonymous(td.kind)

    def anonymous(self, kind: ir.TypeDefKind) -> str:
        t = self.type_name
        if isinstance(kind, ir.Handle):
            res = self.r.types[kind.resource].name
            assert res is not None, "handles point at named resources"
            return name(res) if kind.kind == "own" else f"borrow<{name(res)}>"
        if isinstance(kind, ir.Tuple):
            return f"tuple<{', '.join(t(x) for x in kind.types)}>"
        if isinstance(kind, ir.Option):
            return f"option<{t(kind.type)}>"
        if isinstance(kind, ir.Result):
            if kind.ok is None and kind.err is None:
                return "result"
            if kind.err is None:
                return f"result<{t(kind.ok)}>"  # type: ignore[arg-type]
            ok = "_" if kind.ok is None else t(kind.ok)
            return f"result<{ok}, {t(kind.err)}>"
        if isinstance(kind, ir.List):
            return f"list<{t(kind.type)}>"
        if isinstance(kind, ir.FixedLengthList):
            return f"list<{t(kind.type)}, {kind.length}>"
        if isinstance(kind, ir.Map):
            return f"map<{t(kind.key)}, {t(kind.value)}>"
        if isinstance(kind, ir.Future):
            return "future" if kind.type is None else f"future<{t(kind.type)}>"
        if isinstance(kind, ir.Stream):
            return "stream" if kind.type is None else f"stream<{t(kind.type)}>"
        if isinstance(kind, ir.Alias):
            return t(kind.type)
        raise ValueError(f"a {type(kind).__name__} type must be named to be printed")

    # -- worlds -------------------------------------------------------------------------

    def world_body(self, wid: int) -> None:
        world = self.r.worlds[wid]
        owner = ir.TypeOwner("world", wid)
        methods = self.resource_functions(
            e.item.function for e in world.imports if isinstance(e.item, ir.WorldFunction)
        )
        run: list[tuple[str, int]] = []
        for entry in world.imports:
            item = entry.item
            if isinstance(item, ir.WorldType):
                assert entry.key.name is not None
                run.append((entry.key.name, item.id))
                continue
            if run:
                self.types(owner, run, methods)
                run = []
            if isinstance(item, ir.WorldFunction) and item.function.resource is not None:
                continue
            self.world_item("import", entry, world.package)
            self.any_items = True
        if run:
            self.types(owner, run, methods)
        if world.exports:
            self.new_item()
        for entry in world.exports:
            self.world_item("export", entry, world.package)

    def world_item(self, direction: str, entry: ir.WorldEntry, package: int | None) -> None:
        item = entry.item
        if isinstance(item, ir.WorldInterface):
            iface = self.r.interfaces[item.id]
            item_docs = getattr(item, "docs", ir.NO_DOCS)
            self.docs(item_docs if item_docs or entry.key.name is None else iface.docs)
            self.stability(item.stability, item.external_id)
            if entry.key.name is None:
                self.line(f"{direction} {self.interface_path(item.id, package)};")
            elif iface.name is not None:  # `import label: iface;` names a declared interface
                path = self.interface_path(item.id, package)
                self.line(f"{direction} {name(entry.key.name)}: {path};")
            else:
                self.line(f"{direction} {name(entry.key.name)}: interface {{")
                self.block(lambda: self.interface_body(item.id))
                self.line("}")
        elif isinstance(item, ir.WorldFunction):
            fn = item.function
            self.docs(fn.docs)
            self.stability(fn.stability, fn.external_id)
            assert entry.key.name is not None
            self.line(f"{direction} {name(_plain(entry.key.name))}: {self.signature(fn)};")
        else:  # a type in exports cannot be written in WIT
            raise ValueError("worlds cannot export types")


def _plain(func_name: str) -> str:
    """`x` for an accessor's `[get]x`/`[set]x`, as it is written in WIT."""
    for prefix in ("[get]", "[set]"):
        if func_name.startswith(prefix):
            return func_name[len(prefix) :]
    return func_name
