"""The Python host-bindings backend: `witgen generate --lang python`.

Builds a typed model of every interface and world from the IR (names and type strings come
from `names`), renders the Jinja templates in `sdk_templates/python/` and formats the
result with black. The output is one importable package (`dataflare_core` for
`dataflare:core`) with `py.typed`, a module per interface (types, a `Protocol` for hosts that
serve it, an exports class for plugins that provide it; inline interfaces are named by their
world key), a module per world (the plugin class, and a `Protocol` for the functions the world
imports directly), a `<world>_types` module for a world's own types, and resources the world
imports as `Protocol`s the host implements (the runtime keeps a handle table for them),
`_abi.py` (type descriptors and function signatures that drive value conversion), `_fast.py`
(type-specialised canonical-ABI lift/lower code), `_version.py`, and the host runtime
(`_runtime.py`, `_core.py`, `_capi.py`) copied verbatim from `witgen/hostrt/`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import black
import jinja2
from black.mode import TargetVersion
from black.parsing import InvalidInput

import witgen
from witgen import hostrt, ir
from witgen.backends import ACCESSOR_KINDS, GenerateOptions, require_worlds
from witgen.backends.common import Unsupported
from witgen.abi import Layouts
from witgen.abi.async_payloads import payloads as async_payloads
from witgen.abi.signature import core_signature
from witgen.backends.python import fast as python_fast
from witgen.backends.python.names import camel, const, docstring, package, snake
from witgen.paths import TEMPLATES as _ALL_TEMPLATES
from witgen.paths import read_text, template_loader

LANGUAGE = "python"
WASMTIME_REQUIREMENT = hostrt.WASMTIME_REQUIREMENT
TEMPLATES = _ALL_TEMPLATES / "python"


def _err(message: str, span: Any = None) -> Unsupported:
    return Unsupported(message, span, language="python")


@dataclass
class Module:
    """One generated interface module and the names it needs from other modules."""

    name: str  # python module name, e.g. "types"
    iface: int
    # module -> name -> the local name it is imported as (an alias when the plain name is
    # taken: by a name this module defines, or by a same-named import from another module)
    imports: dict[str, dict[str, str]] = field(default_factory=dict)
    typing: set[str] = field(default_factory=set)  # `typing` names its annotations use
    # the export side of an interface the worlds both import and export with resources: its
    # types are the plugin's (see Generator.dual)
    exported: bool = False
    defines: set[str] = field(default_factory=set)  # top-level names the module defines

    def need(self, module: str, name: str) -> str:
        """Import `name` from `module`; the name to use for it here."""
        if module == self.name:
            return name
        names = self.imports.setdefault(module, {})
        if name not in names:
            taken = self.defines | {local for ns in self.imports.values() for local in ns.values()}
            local = name
            if local in taken:
                local = f"_{module}_{name}"
            while local in taken:
                local += "_"
            names[name] = local
        return names[name]


class Generator:
    def __init__(self, resolve: ir.Resolve, worlds: list[int], options: GenerateOptions):
        self.resolve = resolve
        self.worlds = worlds
        self.options = options
        # id of a function -> the Python names of the plain functions beside it (`_plain_names`)
        self._siblings: dict[int, set[str]] = {}
        main = resolve.main_package
        pkg = resolve.packages[main if main is not None else resolve.worlds[worlds[0]].package or 0]
        self.package = options.package_name or package(pkg.namespace, pkg.short_name)
        self.env = jinja2.Environment(
            loader=template_loader("python"),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            undefined=jinja2.StrictUndefined,
        )
        # interface id -> python module name
        self.iface_modules: dict[int, str] = {}
        # interface id -> a name unique among the generated interfaces (kebab case)
        self.iface_names: dict[int, str] = {}
        # interface id -> its first name in a component's imports/exports (inline ones: the
        # key); an interface imported or exported under several names has one module, and each
        # name its own functions signatures (`sig_name`), host parameter and exports attribute
        self.iface_keys: dict[int, str] = {}
        # (interface id, direction) -> every name it has in that direction, in world order
        self.iface_all_keys: dict[tuple[int, str], list[str]] = {}
        # world id -> module holding the world's own types (`type`/`use` in the world)
        self.world_type_modules: dict[int, str] = {}
        # world id -> functions the world imports directly (the host serves them)
        self.world_imports: dict[int, list[ir.Function]] = {}
        self.imported: set[int] = set()
        self.exported: set[int] = set()
        for w in worlds:
            world = resolve.worlds[w]
            for direction, entries in (("import", world.imports), ("export", world.exports)):
                for entry in entries:
                    item = entry.item
                    if isinstance(item, ir.WorldInterface):
                        if direction == "import" and self.is_wasi(item.id):
                            continue  # served by wasmtime's WASI, within the host's grants
                        key = resolve.world_key_name(entry.key)
                        self.iface_keys.setdefault(item.id, key)
                        keys = self.iface_all_keys.setdefault((item.id, direction), [])
                        if key not in keys:
                            keys.append(key)
                        self._check_several_names(item.id, direction, entry.span)
                        self._add_iface(item.id)
                        (self.imported if direction == "import" else self.exported).add(item.id)
                    elif isinstance(item, ir.WorldFunction) and direction == "import":
                        self.world_imports.setdefault(w, []).append(item.function)
                    elif isinstance(item, ir.WorldType):
                        self.world_type_modules[w] = snake(world.name) + "_types"
                        self._add_used_ifaces([item.id], None)
        taken = {"_abi", "_batch", "_capi", "_core", "_fast", "_runtime", "_version"} | {
            snake(self.resolve.worlds[w].name) for w in worlds
        }
        taken |= {"b", "h", "i", "q", "f", "d"}  # `_fast` names struct formats `_<code>`
        for iface, name in list(self.iface_modules.items()):
            if name in taken:
                self.iface_modules[iface] = name + "_iface"
        taken |= set(self.iface_modules.values())
        # Interfaces with resources that the worlds both import and export: the host implements
        # the imported resources and the plugin the exported ones, so each side has its own
        # module (types, resources) and descriptors, as wit-bindgen keeps `exports::...` apart.
        self.dual = {
            i
            for i in self.imported & self.exported
            if self._has_resources(i) and i in self.iface_modules
        }
        # dual interface -> the module of its export side
        self.export_modules: dict[int, str] = {}
        for iface in sorted(self.dual):
            name = self.iface_modules[iface] + "_exports"
            while name in taken:
                name += "_"
            self.export_modules[iface] = name
            taken.add(name)
        for w, name in list(self.world_type_modules.items()):
            while name in taken:
                name = "_" + name if name.startswith("_") else name + "_"
            self.world_type_modules[w] = name
            taken.add(name)
        # Worlds with async functions, streams, futures or error contexts: their plugins run on
        # the async host (`_async.py` + `_asyncvals.py`), the only one that can run them
        self.async_worlds = {w for w in worlds if self._world_is_async(w)}
        self.async_ifaces = {
            i for i in self.iface_modules if any(self._fn_is_async(f) for f in self._fns(i))
        }
        # the direction values of the types being spelled take (see `py_structure`)
        self.direction: str | None = None

    # -- discovery --

    def _fns(self, iface: int) -> list[ir.Function]:
        return list(self.resolve.interfaces[iface].functions.values())

    def _uses_async_types(self, ty: ir.Type | None, seen: set[int] | None = None) -> bool:
        if ty is None:
            return False
        if isinstance(ty, str):
            return ty == "error-context"
        seen = set() if seen is None else seen
        if ty in seen:
            return False
        seen.add(ty)
        kind = self.resolve.types[ty].kind
        if isinstance(kind, (ir.Future, ir.Stream)):
            return True
        return any(self._uses_async_types(c, seen) for c in ir.type_children(kind, handles=False))

    def _fn_is_async(self, fn: ir.Function) -> bool:
        types = [p.type for p in fn.params] + [fn.result]
        return fn.is_async or any(self._uses_async_types(t) for t in types)

    def _world_is_async(self, wid: int) -> bool:
        world = self.resolve.worlds[wid]
        for entry in [*world.imports, *world.exports]:
            item = entry.item
            if isinstance(item, ir.WorldInterface):
                if self.is_wasi(item.id) and entry in world.imports:
                    continue  # linked by the host's WASI; an exported WASI interface is the plugin's
                if any(self._fn_is_async(f) for f in self._fns(item.id)):
                    return True
            elif isinstance(item, ir.WorldFunction) and self._fn_is_async(item.function):
                return True
        return False

    def _has_resources(self, iface: int) -> bool:
        types = self.resolve.interfaces[iface].types.values()
        return any(isinstance(self.resolve.types[t].kind, ir.Resource) for t in types)

    def _check_several_names(self, iface: int, direction: str, span: Any) -> None:
        """Resources tie their handles to one instance name: an interface with resources
        takes one name per direction."""
        keys = self.iface_all_keys[(iface, direction)]
        if len(keys) > 1 and self._has_resources(iface):
            raise _err(
                f"interface `{keys[0]}` has resources and is {direction}ed under several names "
                f"(`{'`, `'.join(keys)}`); generate bindings for one of those names",
                span,
            )

    def key_suffix(self, iface: int, key: str | None) -> str:
        """What tells the signatures of a second name of an interface from the first's."""
        if key is None or key == self.iface_keys.get(iface):
            return ""
        return "__AS_" + const("".join(c if c.isalnum() else "_" for c in key))

    def key_label(self, iface: int, key: str) -> str:
        """A kebab name for one name of an interface in a world: a plain name as it is
        (`import primary: log` -> `primary`); an interface id: the interface's label for its
        first name, the interface part of the id for others."""
        if ":" not in key:
            return key
        if key == self.iface_keys.get(iface):
            return self.iface_label(iface)
        return key.split("/")[-1].split("@")[0]

    def is_wasi(self, iface: int) -> bool:
        """WASI interfaces are linked by wasmtime (`add_wasip2`), never served from Python."""
        package = self.resolve.interfaces[iface].package
        return package is not None and self.resolve.packages[package].namespace == "wasi"

    def _add_iface(self, iface: int) -> None:
        if iface in self.iface_modules:
            return
        it = self.resolve.interfaces[iface]
        self._add_used_ifaces(list(it.types.values()), iface)
        name = it.name or self.iface_keys.get(iface) or f"iface{iface}"
        taken = {snake(n) for n in self.iface_names.values()}
        if snake(name) in taken and it.package is not None:
            # two interfaces of one name (different packages or versions): qualify
            pkg = self.resolve.packages[it.package]
            name = f"{pkg.namespace}-{pkg.short_name}-{name}"
            if snake(name) in taken and pkg.version:
                name += "-v" + pkg.version.replace(".", "-")
        self.iface_names[iface] = name
        self.iface_modules[iface] = snake(name)

    def _add_used_ifaces(self, types: list[int], within: int | None) -> None:
        """Interfaces that types come from (`use`) need a module too."""
        for tid in types:
            kind = self.resolve.types[tid].kind
            if isinstance(kind, ir.Alias):
                target = self.resolve.types[kind.type] if isinstance(kind.type, int) else None
                if (
                    target is not None
                    and target.owner is not None
                    and target.owner.kind == "interface"
                    and target.owner.id != within  # a plain alias within the interface
                ):
                    self._add_iface(target.owner.id)

    def iface_key(self, iface: int) -> str:
        """The name of an interface in a component: `ns:pkg/name@v`, or an inline one's key."""
        key = self.iface_keys.get(iface) or self.resolve.interface_id(iface)
        if key is None:
            raise _err("an inline interface outside the generated worlds")
        return key

    def iface_label(self, iface: int) -> str:
        """A short name for an interface (inline ones are named by their world key)."""
        return self.iface_names.get(iface) or self.iface_keys.get(iface) or "imports"

    def all_modules(self) -> set[str]:
        return set(self.iface_modules.values()) | set(self.world_type_modules.values())

    # -- names and type strings --

    def type_module(self, tid: int, exported: bool = False) -> str | None:
        """The module defining a type; `exported`: as seen from the export side (the plugin's
        types of an interface both imported and exported with resources)."""
        owner = self.resolve.types[tid].owner
        if owner is None:
            return None
        if owner.kind == "interface":
            if exported and owner.id in self.export_modules:
                return self.export_modules[owner.id]
            return self.iface_modules.get(owner.id)
        if owner.kind == "world":
            return self.world_type_modules.get(owner.id)
        return None

    def class_name(self, tid: int) -> str:
        """The Python class (or alias) of a named type; a name the generated modules import
        (`Any`, `Optional`, `Result`...) gets a trailing underscore."""
        td = self.resolve.types[tid]
        assert td.name is not None
        name = camel(td.name)
        return name + "_" if name in _MODULE_NAMES else name

    def case_class_name(self, tid: int, case: str) -> str:
        """The dataclass of a variant case: the variant's name and the case's, in camel case."""
        name = self.resolve.types[tid].name
        assert name is not None
        return camel(name) + camel(case)

    def type_names(self, iface: int) -> set[str]:
        """The class names an interface's types (and their variant cases) take in its module."""
        names = set()
        for tid in self.resolve.interfaces[iface].types.values():
            names.add(self.class_name(tid))
            kind = self.resolve.types[tid].kind
            if isinstance(kind, ir.Variant):
                names |= {self.case_class_name(tid, c.name) for c in kind.cases}
        return names

    def protocol_name(self, iface: int) -> str:
        """The Protocol a host implements to serve an interface (`<Label>`, or `<Label>Host`
        when one of the interface's types already has that name)."""
        name = camel(self.iface_label(iface))
        while name in self.type_names(iface):
            name += "Host"
        return name

    def exports_class_name(self, iface: int) -> str:
        """The class of a plugin's exports of an interface (`<Label>Exports`)."""
        name = camel(self.iface_label(iface)) + "Exports"
        while name in self.type_names(iface) or name == self.protocol_name(iface):
            name += "_"
        return name

    def is_option(self, ty: ir.Type) -> bool:
        ty = self.resolve.dealias(ty)
        return isinstance(ty, int) and isinstance(self.resolve.types[ty].kind, ir.Option)

    def py_type(self, ty: ir.Type | None, mod: Module) -> str:
        """The annotation for a WIT type, as seen from module `mod`."""
        if ty is None:
            return "None"
        if isinstance(ty, str):
            if ty == "error-context":
                return mod.need("_asyncvals", "ErrorContext")
            return {
                "bool": "bool",
                "f32": "float",
                "f64": "float",
                "char": "str",
                "string": "str",
                "error-context": "Any",
            }.get(ty, "int")
        td = self.resolve.types[ty]
        if td.name is not None and not isinstance(td.kind, ir.Handle):
            module = self.type_module(ty, mod.exported)
            name = self.class_name(ty)
            if module is None:
                raise _err(f"type `{td.name}` is not defined in an interface", td.span)
            return mod.need(module, name)
        return self.py_structure(ty, mod)

    def py_structure(self, ty: int, mod: Module) -> str:
        """The annotation for the structure of a type definition, ignoring its name."""
        td = self.resolve.types[ty]
        kind = td.kind
        if isinstance(kind, ir.Handle):
            return self.py_type(kind.resource, mod)
        if isinstance(kind, ir.Alias):
            return self.py_type(kind.type, mod)
        if isinstance(kind, ir.List):
            if self.resolve.dealias(kind.type) == "u8":
                return "bytes"
            return f"list[{self.py_type(kind.type, mod)}]"
        if isinstance(kind, ir.FixedLengthList):
            # like `list<T>`: bytes for u8, else a list (its length is checked when lowered)
            if self.resolve.dealias(kind.type) == "u8":
                return "bytes"
            return f"list[{self.py_type(kind.type, mod)}]"
        if isinstance(kind, ir.Map):
            return f"dict[{self.py_type(kind.key, mod)}, {self.py_type(kind.value, mod)}]"
        if isinstance(kind, ir.Tuple):
            return f"tuple[{', '.join(self.py_type(t, mod) for t in kind.types)}]"
        if isinstance(kind, ir.Option):
            inner = self.py_type(kind.type, mod)
            if self.is_option(kind.type):
                mod.need("_runtime", "Some")
                inner = f"Some[{inner}]"
            mod.typing.add("Optional")
            return f"Optional[{inner}]"
        if isinstance(kind, ir.Result):
            mod.need("_runtime", "Result")
            return f"Result[{self.py_type(kind.ok, mod)}, {self.py_type(kind.err, mod)}]"
        if isinstance(kind, (ir.Stream, ir.Future)):
            # what the plugin hands the host is a reader; what the host hands the plugin, any
            # iterable (a stream) or awaitable (a future); a named type's field takes both
            element = self.py_type(kind.type, mod)
            if isinstance(kind, ir.Stream):
                wrapper = "StreamReader" if self.direction == "out" else "StreamSource"
            else:
                wrapper = "FutureReader" if self.direction == "out" else "FutureSource"
            return f"{mod.need('_asyncvals', wrapper)}[{element}]"
        raise _err(f"{type(kind).__name__.lower()} types are not supported yet", td.span)

    # -- interface modules --

    def type_model(self, tid: int, mod: Module) -> dict[str, Any]:
        direction, self.direction = self.direction, None
        try:
            return self._type_model(tid, mod)
        finally:
            self.direction = direction

    def _type_model(self, tid: int, mod: Module) -> dict[str, Any]:
        td = self.resolve.types[tid]
        kind = td.kind
        assert td.name is not None
        name = self.class_name(tid)
        doc = docstring(td.docs.contents, "    ")
        base: dict[str, Any] = {"name": name, "doc": doc, "wit": td.name}
        if isinstance(kind, ir.Record):
            fields = [
                {
                    "name": snake(f.name),
                    "type": self.py_type(f.type, mod),
                    "doc": docstring(f.docs.contents, "    "),
                }
                for f in kind.fields
            ]
            return {**base, "kind": "record", "fields": fields}
        if isinstance(kind, ir.Enum):
            cases = [
                {"name": const(c.name), "wit": c.name, "doc": docstring(c.docs.contents, "    ")}
                for c in kind.cases
            ]
            return {**base, "kind": "enum", "cases": cases}
        if isinstance(kind, ir.Flags):
            flags = [
                {"name": const(f.name), "wit": f.name, "doc": docstring(f.docs.contents, "    ")}
                for f in kind.flags
            ]
            return {**base, "kind": "flags", "flags": flags}
        if isinstance(kind, ir.Variant):
            cases = [
                {
                    "name": self.case_class_name(tid, c.name),
                    "type": None if c.type is None else self.py_type(c.type, mod),
                    "doc": docstring(c.docs.contents, "    "),
                }
                for c in kind.cases
            ]
            return {**base, "kind": "variant", "cases": cases, "doc": docstring(td.docs.contents)}
        if isinstance(kind, ir.Resource):
            return {**base, "kind": "resource", "methods": [], "doc": doc}
        if isinstance(kind, ir.Alias) and isinstance(kind.type, int):
            target = self.resolve.types[kind.type]
            tmod = self.type_module(kind.type, mod.exported)
            if target.name is not None and tmod is not None and tmod != mod.name:
                tname = mod.need(tmod, self.class_name(kind.type))
                if tname != name:  # `use x.{a as b}`: b names the same class
                    return {**base, "kind": "alias", "target": tname, "doc": None}
                return {**base, "kind": "import", "target": tname}
        # `type a = <anything>`: a type alias
        inner = kind.type if isinstance(kind, ir.Alias) else tid
        if inner == tid:
            body = self.py_structure(tid, mod)
        else:
            body = self.py_type(inner, mod)
        return {**base, "kind": "alias", "target": body, "doc": docstring(td.docs.contents)}

    def func_model(
        self, fn: ir.Function, mod: Module, *, skip_self: bool, host: bool = False
    ) -> dict[str, Any]:
        """`host`: the host implements the function (an import): streams and futures in its
        parameters come from the plugin, those in its result go to it; the other way round
        for exports."""
        params = list(fn.params[1:] if skip_self else fn.params)
        saved = self.direction
        try:
            self.direction = "out" if host else "in"
            types = [self.py_type(p.type, mod) for p in params]
            self.direction = "in" if host else "out"
            result = self.py_type(fn.result, mod)
        finally:
            self.direction = saved
        return {
            "name": self.fn_name(fn),
            "wit": fn.name,
            "params": [{"name": snake(p.name), "type": t} for p, t in zip(params, types)],
            "args": [snake(p.name) for p in params],
            "args_tuple": _tuple_text([snake(p.name) for p in params]),
            "self_args_tuple": _tuple_text(["self"] + [snake(p.name) for p in params]),
            "result": result,
            "doc": docstring(fn.docs.contents, "        "),
            "is_async": fn.is_async,
            "def_kw": "async def" if fn.is_async else "def",
            "await_kw": "await " if fn.is_async else "",
            "call": "await self._instance.call" if fn.is_async else "self._instance.call_sync",
        }

    def is_host_resource(self, tid: int, exported: bool = False) -> bool:
        """Resources the world imports are implemented by the host, in Python (`exported`: as
        seen from the export side of an interface both imported and exported)."""
        real = self.resolve.dealias(tid)
        tid = real if isinstance(real, int) else tid
        owner = self.resolve.types[tid].owner
        if owner is None:
            return False
        if owner.kind == "world":
            return True
        if exported and owner.kind == "interface" and owner.id in self.dual:
            return False
        return owner.kind == "interface" and owner.id in self.imported

    def resource_key(self, tid: int) -> str:
        """How the runtime names a host resource type: `<interface>#<name>` (`#name`: world)."""
        real = self.resolve.dealias(tid)
        td = self.resolve.types[real if isinstance(real, int) else tid]
        owner = td.owner
        assert owner is not None and td.name is not None
        prefix = self.iface_key(owner.id) if owner.kind == "interface" else ""
        return f"{prefix}#{td.name}"

    def host_protocol_methods(self, fns: list[ir.Function], mod: Module) -> list[dict[str, Any]]:
        """What the object serving some imports implements: free functions, and per
        host resource its constructor (named like the resource) and static functions."""
        methods = []
        for fn in fns:
            if fn.kind in _METHOD_KINDS:
                continue
            model = self.func_model(fn, mod, skip_self=False, host=True)
            if fn.resource is not None:
                prefix = snake(self.resolve.types[fn.resource].name or "resource")
                if fn.kind == "constructor":
                    model["name"] = prefix
                    model["result"] = self.py_type(fn.resource, mod)
                else:
                    model["name"] = f"{prefix}_{model['name']}"
            methods.append(model)
        return methods

    def host_impls(
        self, fns: list[ir.Function], sig: Any, param: str | None
    ) -> list[dict[str, str]]:
        """Per imported function, the expression that serves it in the world's `prepare`."""
        out = []
        for fn in fns:
            if fn.kind in _METHOD_KINDS:
                impl = f'_runtime.host_method("{self.fn_name(fn)}")'
            else:
                name = self.fn_name(fn)
                if fn.resource is not None:
                    prefix = snake(self.resolve.types[fn.resource].name or "resource")
                    name = prefix if fn.kind == "constructor" else f"{prefix}_{name}"
                impl = f"None if {param} is None else {param}.{name}"
            out.append({"sig": sig(fn), "impl": impl})
        return out

    def host_resource_models(
        self, types: list[dict[str, Any]], fns: list[ir.Function], mod: Module
    ) -> None:
        """Turn the resource models of host resources into Protocols with their methods."""
        by_name = {t["wit"]: t for t in types if t["kind"] == "resource"}
        for t in by_name.values():
            t["kind"] = "host-resource"
        for fn in fns:
            if fn.kind in _METHOD_KINDS and fn.resource is not None:
                res = self.resolve.types[fn.resource].name
                if res in by_name:
                    model = self.func_model(fn, mod, skip_self=True, host=True)
                    by_name[res]["methods"].append(model)

    def interface_module(self, iface: int, export_side: bool = False) -> tuple[str, str]:
        """The module of an interface; for an interface in `dual`, the import side (host
        resources, the Protocol a host implements) or, `export_side`, the export side."""
        it = self.resolve.interfaces[iface]
        dual = iface in self.dual
        imported = iface in self.imported and not export_side
        exported = iface in self.exported and (export_side or not dual)
        name = self.export_modules[iface] if export_side else self.iface_modules[iface]
        mod = Module(name, iface, exported=export_side, defines=set(_IFACE_MODULE_NAMES))
        key = self.iface_key(iface)
        if export_side:
            key = self.iface_all_keys[(iface, "export")][0]
        types = []
        resources: dict[int, dict[str, Any]] = {}
        for tid in it.types.values():
            model = self.type_model(tid, mod)
            types.append(model)
            if model["kind"] == "resource":
                resources[tid] = model
        protocol: dict[str, Any] | None = None
        exports: dict[str, Any] | None = None
        functions = [f for f in it.functions.values() if f.resource is None]
        if imported:
            all_fns = list(it.functions.values())
            self.host_resource_models(types, all_fns, mod)
            resources = {}
            methods = self.host_protocol_methods(all_fns, mod)
            if methods:
                protocol = {
                    "name": self.protocol_name(iface),
                    "doc": docstring(it.docs.contents, "    "),
                    "methods": methods,
                }
        if exported and iface in self.async_ifaces:
            # exported by async worlds only: the functions are in `async_world_module`, the
            # methods of its resources here
            for fn in it.functions.values():
                if fn.resource is not None and fn.kind in _METHOD_KINDS:
                    model = self.func_model(fn, mod, skip_self=True)
                    resources[fn.resource]["methods"].append(model)
            exported = False
        if exported:
            ctors = []
            for fn in it.functions.values():
                if fn.resource is None:
                    continue
                res_name = self.class_name(fn.resource)
                if fn.kind in _METHOD_KINDS:
                    resources[fn.resource]["methods"].append(
                        self.func_model(fn, mod, skip_self=True)
                    )
                else:
                    model = self.func_model(fn, mod, skip_self=False)
                    prefix = snake(self.resolve.types[fn.resource].name or "resource")
                    model["name"] = (
                        prefix if fn.kind == "constructor" else f"{prefix}_{model['name']}"
                    )
                    if fn.kind == "constructor":
                        model["result"] = res_name
                    ctors.append(model)
            methods = [self.func_model(f, mod, skip_self=False) for f in functions]
            exports = {
                "name": self.exports_class_name(iface),
                "doc": docstring(it.docs.contents, "    "),
                "methods": methods + ctors,
            }
        # resource methods cast
        needs_cast = bool(exports is not None and resources) or any(
            r["methods"] for r in resources.values()
        )
        text = self.render(
            "interface.py.j2",
            module=mod.name,
            iface_key=key,
            doc=docstring(it.docs.contents),
            types=types,
            protocol=protocol,
            exports=exports,
            exported=exported,
            imports=self.import_lines(mod),
            needs_runtime=bool(resources) or exports is not None,
            typing_names=self.typing_names(mod, types, protocol, needs_cast),
            uses_enum=any(t["kind"] in ("enum", "flags") for t in types),
            uses_dataclass=any(t["kind"] in ("record", "variant") for t in types),
        )
        return mod.name, text

    def world_types_module(self, wid: int) -> tuple[str, str]:
        """The module of a world's own types (declared in the world, or brought in by `use`)."""
        world = self.resolve.worlds[wid]
        mod = Module(self.world_type_modules[wid], -1)
        types = []
        for entry in world.imports:
            if not isinstance(entry.item, ir.WorldType):
                continue
            types.append(self.type_model(entry.item.id, mod))
        self.host_resource_models(types, self.world_imports.get(wid, []), mod)
        text = self.render(
            "interface.py.j2",
            module=mod.name,
            iface_key=None,
            doc=f'"""Types of the `{world.name}` world."""',
            types=types,
            protocol=None,
            exports=None,
            exported=False,
            imports=self.import_lines(mod),
            needs_runtime=False,
            typing_names=self.typing_names(mod, types, None, False),
            uses_enum=any(t["kind"] in ("enum", "flags") for t in types),
            uses_dataclass=any(t["kind"] in ("record", "variant") for t in types),
        )
        return mod.name, text

    @staticmethod
    def typing_names(
        mod: Module, types: list[dict[str, Any]], protocol: Any, needs_cast: bool
    ) -> list[str]:
        """The `typing` names an interface module imports, from what its model recorded."""
        names = []
        if "Any" in mod.typing:
            names.append("Any")
        if needs_cast:
            names.append("cast")
        if "Optional" in mod.typing:
            names.append("Optional")
        if protocol is not None or any(t["kind"] == "host-resource" for t in types):
            names.append("Protocol")
        if any(t["kind"] in ("alias", "variant") for t in types):
            names.append("TypeAlias")
        if any(t["kind"] == "variant" for t in types):
            names.append("Union")
        return names

    def import_lines(self, mod: Module) -> list[str]:
        lines = []
        for module in sorted(mod.imports):
            imported = mod.imports[module]
            names = ", ".join(f"{n} as {imported[n]}" for n in sorted(imported))
            lines.append(f"from {self.package}.{module} import {names}")
        return lines

    # -- world modules --

    def world_module(self, wid: int) -> tuple[str, str]:
        world = self.resolve.worlds[wid]
        mod = Module(snake(world.name), -1, defines=set(_WORLD_MODULE_NAMES))
        mod.defines |= {camel(world.name), camel(world.name) + "Imports"}
        imports: list[dict[str, Any]] = []
        exports = []
        flat: dict[str, list[dict[str, Any]]] = {}
        # the parameters of `prepare`/`load` besides the imports' (an import never shadows one)
        params_taken = set(_PREPARE_PARAMS)
        for entry in world.imports:
            if isinstance(entry.item, ir.WorldInterface):
                iface = entry.item.id
                if self.is_wasi(iface):
                    continue
                it = self.resolve.interfaces[iface]
                fns = list(it.functions.values())
                if not fns:
                    continue  # only types come from it (`use`); nothing to serve
                key = self.resolve.world_key_name(entry.key)
                param: str | None = None
                proto: str | None = None
                if self.host_protocol_methods(fns, Module("", -1)):
                    proto = mod.need(self.iface_modules[iface], self.protocol_name(iface))
                    param = _unique(snake(self.key_label(iface, key)), params_taken)
                sig = (lambda iface, key: lambda f: self.sig_name(iface, f, None, True, key))(
                    iface, key
                )
                imports.append(
                    {
                        "param": param,
                        "protocol": proto,
                        "functions": self.host_impls(fns, sig, param),
                    }
                )
        protocol: dict[str, Any] | None = None
        functions = self.world_imports.get(wid, [])
        if functions:
            param = None
            methods = self.host_protocol_methods(functions, mod)
            if methods:
                param = _unique("imports", params_taken)
                protocol = {"name": camel(world.name) + "Imports", "methods": methods}
            imports.append(
                {
                    "param": param,
                    "protocol": None if protocol is None else protocol["name"],
                    "functions": self.host_impls(
                        functions, lambda f: self.sig_name(None, f, wid, True), param
                    ),
                }
            )
        # attributes of the world class besides the exports' (see world.py.j2)
        attrs_taken = set(_WORLD_ATTRS)
        for entry in world.exports:
            item = entry.item
            if isinstance(item, ir.WorldInterface):
                iface = item.id
                it = self.resolve.interfaces[iface]
                key = self.resolve.world_key_name(entry.key)
                exports_module = self.export_modules.get(iface, self.iface_modules[iface])
                cls = mod.need(exports_module, self.exports_class_name(iface))
                attr = _unique(snake(self.key_label(iface, key)), attrs_taken)
                second = key != self.iface_keys.get(iface)
                exports.append({"attr": attr, "cls": cls, "key": key if second else None})
                # annotations from the export side of a dual interface (the plugin's types)
                seen_from = mod
                if iface in self.dual:
                    seen_from = Module(mod.name, -1, exported=True, defines=mod.defines)
                    seen_from.imports = mod.imports  # one set of local names
                for fn in it.functions.values():
                    if fn.resource is None:
                        model = self.func_model(fn, seen_from, skip_self=False)
                        model["via"] = attr
                        flat.setdefault(model["name"], []).append(model)
                mod.typing |= seen_from.typing
            elif isinstance(item, ir.WorldFunction):
                model = self.func_model(item.function, mod, skip_self=False)
                model["via"] = None
                model["sig"] = self.sig_name(None, item.function, wid)
                flat.setdefault(model["name"], []).append(model)
        methods = [ms[0] for name, ms in flat.items() if len(ms) == 1 and name not in attrs_taken]
        text = self.render(
            "world.py.j2",
            name=camel(world.name),
            doc=docstring(world.docs.contents, "    "),
            wit_name=world.name,
            imports=imports,
            protocol=protocol,
            exports=exports,
            methods=methods,
            import_lines=self.import_lines(mod),
            export_sigs=self.world_export_sigs(wid),
            uses_optional="Optional" in mod.typing,
        )
        return mod.name, text

    def async_world_module(self, wid: int) -> tuple[str, str]:
        """The module of a world whose plugins run on the async host (async_world.py.j2)."""
        world = self.resolve.worlds[wid]
        self.async_functions(wid)  # refuses what the async host cannot run, by name
        name = camel(world.name)
        mod = Module(snake(world.name), -1, defines=set(_ASYNC_WORLD_MODULE_NAMES))
        mod.defines |= {name, name + "Imports"}
        for entry in world.exports:
            if isinstance(entry.item, ir.WorldInterface):
                mod.defines.add(self.exports_class_name(entry.item.id))
        imports: list[dict[str, Any]] = []
        params_taken = {"cls", "component", "limits", "wasi"}
        for entry in world.imports:
            item = entry.item
            if not isinstance(item, ir.WorldInterface) or self.is_wasi(item.id):
                continue
            fns = self._fns(item.id)
            if not fns or not self.host_protocol_methods(fns, Module("", -1)):
                continue
            key = self.resolve.world_key_name(entry.key)
            imports.append(
                {
                    "param": _unique(snake(self.key_label(item.id, key)), params_taken),
                    "protocol": mod.need(self.iface_modules[item.id], self.protocol_name(item.id)),
                    "key": f'"{key}"',
                }
            )
        protocol: dict[str, Any] | None = None
        functions = self.world_imports.get(wid, [])
        if functions:
            methods = self.host_protocol_methods(functions, mod)
            protocol = {"name": name + "Imports", "methods": methods}
            imports.append(
                {
                    "param": _unique("imports", params_taken),
                    "protocol": protocol["name"],
                    "key": "None",
                }
            )
        attrs_taken = {"EXPORTS", "IMPORTS", "RESOURCES", "load", "_instance"}
        export_classes: list[dict[str, Any]] = []
        exports = []
        flat: dict[str, list[dict[str, Any]]] = {}
        for entry in world.exports:
            item = entry.item
            if isinstance(item, ir.WorldInterface):
                it = self.resolve.interfaces[item.id]
                key = self.resolve.world_key_name(entry.key)
                cls = _unique(self.exports_class_name(item.id), {c["name"] for c in export_classes})
                methods = []
                for fn in it.functions.values():
                    if fn.kind in _METHOD_KINDS:
                        continue  # methods of the resource's class (the interface module)
                    model = self.func_model(fn, mod, skip_self=False)
                    model["call_key"] = f"{key}#{fn.name}"
                    model["name"] = self.py_method(fn)
                    if fn.kind == "constructor":
                        assert fn.resource is not None
                        model["result"] = self.py_type(fn.resource, mod)
                    methods.append(model)
                    flat.setdefault(model["name"], []).append({**model, "via": None})
                attr = _unique(snake(self.key_label(item.id, key)), attrs_taken)
                for model in methods:
                    flat[model["name"]][-1]["via"] = attr
                export_classes.append(
                    {
                        "name": cls,
                        "key": key,
                        "doc": docstring(it.docs.contents, "    "),
                        "methods": methods,
                    }
                )
                exports.append({"attr": attr, "cls": cls})
            elif isinstance(item, ir.WorldFunction):
                model = self.func_model(item.function, mod, skip_self=False)
                model["call_key"] = item.function.name
                model["via"] = None
                flat.setdefault(model["name"], []).append(model)
        methods = [ms[0] for n, ms in flat.items() if len(ms) == 1 and n not in attrs_taken]
        text = self.render(
            "async_world.py.j2",
            name=name,
            const_name=const(world.name),
            doc=docstring(world.docs.contents, "    "),
            wit_name=world.name,
            imports=imports,
            protocol=protocol,
            export_classes=export_classes,
            exports=exports,
            methods=methods,
            import_lines=self.import_lines(mod),
            uses_optional="Optional" in mod.typing,
        )
        return mod.name, text

    def sig_name(
        self,
        iface: int | None,
        fn: ir.Function,
        world: int | None = None,
        imported: bool = False,
        key: str | None = None,
    ) -> str:
        """The `_abi` name of a function's signature (world-level ones carry their world; the
        functions of a second name of an interface carry that name)."""
        if iface is not None:
            module = self.iface_modules[iface]
            if not imported and iface in self.dual:
                module = self.export_modules[iface]
            owner = const(module) + self.key_suffix(iface, key)
        else:
            assert world is not None
            owner = const(self.resolve.worlds[world].name) + ("__IMPORT" if imported else "")
        # an accessor's `[get]`/`[set]` is `GET__`/`SET__`: no WIT name has a double underscore,
        # so `[set]level` stays apart from a function `set-level`
        plain = re.sub(r"\[(get|set)\]", r"\1__", fn.name)
        return f"{owner}__{const(plain.replace('[', '').replace(']', '_').replace('.', '_'))}"

    def world_export_sigs(self, wid: int) -> list[str]:
        world = self.resolve.worlds[wid]
        sigs = []
        for entry in world.exports:
            item = entry.item
            if isinstance(item, ir.WorldInterface):
                key = self.resolve.world_key_name(entry.key)
                for fn in self.resolve.interfaces[item.id].functions.values():
                    sigs.append(self.sig_name(item.id, fn, key=key))
            elif isinstance(item, ir.WorldFunction):
                sigs.append(self.sig_name(None, item.function, wid))
        return sigs

    # -- descriptors (_abi.py) --

    def fn_name(self, fn: ir.Function) -> str:
        """The Python name of a function, before a static function's resource prefix: an
        accessor `level: get() -> u32` is `level()`, `level: set(v: u32)` is `set_level(v)` (as
        in the Rust backend), or `set_level_(v)` next to a plain function `set-level`. A getter
        cannot meet a function `level`: WIT itself refuses the pair (their names collide)."""
        if fn.kind not in ACCESSOR_KINDS:
            return snake(fn.item_name)
        base = fn.name.rsplit("]", 1)[1].rsplit(".", 1)[-1]
        if fn.kind.endswith("getter"):
            return snake(base)
        name = snake(f"set-{base}")
        return f"{name}_" if name in self._plain_names(fn) else name

    def _plain_names(self, fn: ir.Function) -> set[str]:
        """The Python names of the plain functions (not accessors) beside `fn`: in its
        interface or world, on the same resource or free-standing."""
        if not self._siblings:
            scopes = [list(i.functions.values()) for i in self.resolve.interfaces]
            for w in self.resolve.worlds:
                for entries in (w.imports, w.exports):
                    scopes.append(
                        [e.item.function for e in entries if isinstance(e.item, ir.WorldFunction)]
                    )
            for scope in scopes:
                groups: dict[int | None, set[str]] = {}
                for f in scope:
                    if f.kind not in ACCESSOR_KINDS:
                        groups.setdefault(f.resource, set()).add(snake(f.item_name))
                for f in scope:
                    self._siblings[id(f)] = groups.get(f.resource, set())
        return self._siblings.get(id(fn), set())

    def py_method(self, fn: ir.Function) -> str:
        """The Python name of a function as a host calls it (errors about its values name it)."""
        name = self.fn_name(fn)
        if fn.resource is None or fn.kind in _METHOD_KINDS:
            return name
        prefix = snake(self.resolve.types[fn.resource].name or "resource")
        return prefix if fn.kind == "constructor" else f"{prefix}_{name}"

    def abi_module(self) -> str:
        lines: list[str] = []
        # (type, from the export side of a dual interface) -> its descriptor's name
        done: dict[tuple[ir.Type, bool], str] = {}
        modules: set[str] = set()  # interface modules the descriptors refer to
        # whether the signature being described is of a dual interface's export side: its
        # types and resources are the plugin's (descriptors `E<id>` instead of `T<id>`)
        export_side = False

        def cls_of(tid: int) -> str:
            module = self.type_module(tid, export_side)
            name = self.resolve.types[tid].name
            if module is None or name is None:
                raise _err("a named type outside the generated modules")
            modules.add(module)
            return f"_{module}.{self.class_name(tid)}"

        def case_cls(tid: int, case: str) -> str:
            module = self.type_module(tid, export_side)
            assert module is not None
            return f"_{module}.{self.case_class_name(tid, case)}"

        def desc(ty: ir.Type | None) -> str:
            if ty is None:
                return "None"
            if ty == "error-context":
                if "ERROR_CONTEXT" not in done.values():
                    lines.append('ERROR_CONTEXT: Desc = ("error-context",)')
                    done[("error-context", False)] = "ERROR_CONTEXT"
                return "ERROR_CONTEXT"
            if isinstance(ty, str):
                return _PRIM_DESCS.get(ty, "ANY")
            if (ty, export_side) in done:
                return done[(ty, export_side)]
            td = self.resolve.types[ty]
            kind = td.kind
            cls = None
            if td.name is not None and self.type_module(ty) is not None:
                cls = cls_of(ty)
            if isinstance(kind, ir.Alias):
                text = desc(kind.type)
                done[(ty, export_side)] = text
                return text
            if isinstance(kind, ir.Record):
                fields = ", ".join(
                    f'("{snake(f.name)}", "{f.name}", {desc(f.type)})' for f in kind.fields
                )
                body = f'("record", {cls}, ({fields},))'
            elif isinstance(kind, ir.Enum):
                body = f'("enum", {cls})'
            elif isinstance(kind, ir.Flags):
                flags = ", ".join(f'("{f.name}", {cls}.{const(f.name)})' for f in kind.flags)
                body = f'("flags", {cls}, ({flags},))'
            elif isinstance(kind, ir.Variant):
                cases = ", ".join(
                    f'("{c.name}", {case_cls(ty, c.name)}, {desc(c.type)})' for c in kind.cases
                )
                body = f'("variant", ({cases},))'
            elif isinstance(kind, ir.Option):
                body = f'("option", {desc(kind.type)}, {self.is_option(kind.type)})'
            elif isinstance(kind, ir.Result):
                body = f'("result", {desc(kind.ok)}, {desc(kind.err)})'
            elif isinstance(kind, ir.List):
                if self.resolve.dealias(kind.type) == "u8":
                    done[(ty, export_side)] = "BYTES"
                    return "BYTES"
                body = f'("list", {desc(kind.type)})'
            elif isinstance(kind, ir.FixedLengthList):
                if self.resolve.dealias(kind.type) == "u8":
                    body = f'("fixed-bytes", {kind.length})'
                else:
                    body = f'("fixed-list", {desc(kind.type)}, {kind.length})'
            elif isinstance(kind, ir.Map):
                body = f'("map", {desc(kind.key)}, {desc(kind.value)})'
            elif isinstance(kind, ir.Tuple):
                body = f'("tuple", ({", ".join(desc(t) for t in kind.types)},))'
            elif isinstance(kind, ir.Handle) and self.is_host_resource(kind.resource, export_side):
                body = f'("host-{kind.kind}", "{self.resource_key(kind.resource)}")'
            elif isinstance(kind, ir.Handle):
                body = f'("{kind.kind}", {cls_of(kind.resource)})'
            elif isinstance(kind, (ir.Stream, ir.Future)):
                what = "stream" if isinstance(kind, ir.Stream) else "future"
                body = f'("{what}", {desc(kind.type)}, "{self.payload_key(kind.type)}")'
            else:
                raise _err(f"{type(kind).__name__.lower()} types are not supported yet", td.span)
            name = f"{'E' if export_side else 'T'}{ty}"
            lines.append(f"{name}: Desc = {body}")
            done[(ty, export_side)] = name
            return name

        sigs = []
        seen_sigs: set[str] = set()
        for wid in self.worlds:
            world = self.resolve.worlds[wid]
            directed = [(True, e) for e in world.imports] + [(False, e) for e in world.exports]
            for imported, entry in directed:
                item = entry.item
                pairs: list[tuple[int | None, ir.Function]] = []
                if isinstance(item, ir.WorldInterface) and item.id not in self.iface_modules:
                    continue  # a WASI import
                if isinstance(item, ir.WorldInterface):
                    pairs = [
                        (item.id, f) for f in self.resolve.interfaces[item.id].functions.values()
                    ]
                elif isinstance(item, ir.WorldFunction):
                    pairs = [(None, item.function)]
                entry_key = self.resolve.world_key_name(entry.key)
                export_side = (
                    not imported and isinstance(item, ir.WorldInterface) and item.id in self.dual
                )
                for iface, fn in pairs:
                    name = self.sig_name(iface, fn, wid, imported, key=entry_key)
                    if name in seen_sigs:
                        continue
                    seen_sigs.add(name)
                    params = _tuple_text([desc(p.type) for p in fn.params])
                    names = _tuple_text([f'"{snake(p.name)}"' for p in fn.params])
                    key = "None" if iface is None else f'"{entry_key}"'
                    sigs.append(
                        f'{name} = FuncSig({key}, "{fn.name}", {params}, {desc(fn.result)}, '
                        f'"{self.py_method(fn)}", {names})'
                    )
        export_side = False
        async_tables = [self.async_table(w, desc) for w in self.worlds if w in self.async_worlds]
        return self.render(
            "_abi.py.j2",
            modules=sorted(modules),
            descriptors=lines,
            int_ranges=_INT_RANGES,
            sigs=sigs,
            async_tables=async_tables,
        )

    def payload_key(self, ty: ir.Type | None) -> str:
        """What tells one stream or future payload type from another (the async host traps on
        a mismatch): the WIT type, named types by their id."""
        if ty is None:
            return ""
        ty = self.resolve.dealias(ty)
        if isinstance(ty, str):
            return ty
        td = self.resolve.types[ty]
        kind = td.kind
        if td.name is not None:
            return f"{td.name}#{ty}"
        parts = [self.payload_key(c) for c in ir.type_children(kind, handles=True)]
        return f"{type(kind).__name__.lower()}<{','.join(parts)}>"

    def async_functions(self, wid: int) -> list[tuple[bool, str | None, ir.Function]]:
        """(imported, interface key or None, function) of an async world, in world order."""
        world = self.resolve.worlds[wid]
        out: list[tuple[bool, str | None, ir.Function]] = []
        for imported, entries in ((True, world.imports), (False, world.exports)):
            for entry in entries:
                item = entry.item
                if isinstance(item, ir.WorldInterface):
                    if imported and self.is_wasi(item.id):
                        continue
                    key = self.resolve.world_key_name(entry.key)
                    out += [(imported, key, f) for f in self._fns(item.id)]
                elif isinstance(item, ir.WorldFunction):
                    out.append((imported, None, item.function))
        return out

    def async_resources(self, wid: int) -> list[str]:
        """The resource types of an async world as `(interface, name, exported)` texts: the
        async host serves their built-ins on the guest's handle table."""
        world = self.resolve.worlds[wid]
        out: list[str] = []
        for imported, entries in ((True, world.imports), (False, world.exports)):
            for entry in entries:
                item = entry.item
                tids: list[int] = []
                key = "None"
                if isinstance(item, ir.WorldInterface):
                    if imported and self.is_wasi(item.id):
                        continue
                    key = f'"{self.resolve.world_key_name(entry.key)}"'
                    tids = list(self.resolve.interfaces[item.id].types.values())
                elif isinstance(item, ir.WorldType) and imported:
                    tids = [item.id]
                for tid in tids:
                    td = self.resolve.types[tid]
                    if isinstance(td.kind, ir.Resource) and td.name is not None:
                        out.append(f'({key}, "{td.name}", {not imported})')
        return out

    def async_table(self, wid: int, desc: Any) -> dict[str, Any]:
        """The `_asyncvals.Export`/`Import` entries of an async world (in `_abi.py`)."""
        layouts = self._layouts()
        exports, imports = [], []
        for imported, key, fn in self.async_functions(wid):
            params = _tuple_text([desc(p.type) for p in fn.params])
            result = desc(fn.result)
            pays = _tuple_text(
                [f"({p.index}, {desc(p.type_id)})" for p in async_payloads(self.resolve, fn)]
            )
            iface = "None" if key is None else f'"{key}"'
            head = f'{iface}, "{fn.name}", {fn.is_async}, {params}, {result}'
            method = self.py_method(fn)
            if imported:
                sig = core_signature(layouts, fn, "import")
                imports.append(
                    f"_asyncvals.Import({head}, {_tuple_text([repr(t) for t in sig.params])}, "
                    f"{_tuple_text([repr(t) for t in sig.results])}, {sig.params_indirect}, "
                    f'{sig.results_indirect}, {pays}, "{method}", {fn.kind in _METHOD_KINDS})'
                )
            else:
                sig = core_signature(layouts, fn, "export")
                exports.append(
                    f"_asyncvals.Export({head}, {sig.params_indirect}, {sig.results_indirect}, "
                    f'{sig.needs_post_return}, {pays}, "{method}")'
                )
        name = const(self.resolve.worlds[wid].name)
        resources = self.async_resources(wid)
        return {"name": name, "exports": exports, "imports": imports, "resources": resources}

    def _layouts(self) -> Layouts:
        if not hasattr(self, "_layouts_cache"):
            self._layouts_cache = Layouts(self.resolve)
        return self._layouts_cache

    # -- output --

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(
            version=witgen.__version__,
            source=self.options.source,
            package=self.package,
            **context,
        )

    def generate(self) -> dict[str, str]:
        files: dict[str, str] = {}
        pkg = self.package
        for iface in sorted(self.iface_modules):
            name, text = self.interface_module(iface)
            files[f"{pkg}/{name}.py"] = text
            if iface in self.dual:
                name, text = self.interface_module(iface, export_side=True)
                files[f"{pkg}/{name}.py"] = text
        for wid in sorted(self.world_type_modules):
            name, text = self.world_types_module(wid)
            files[f"{pkg}/{name}.py"] = text
        worlds = []
        for wid in self.worlds:
            if wid in self.async_worlds:
                name, text = self.async_world_module(wid)
            else:
                name, text = self.world_module(wid)
            files[f"{pkg}/{name}.py"] = text
            worlds.append({"module": name, "cls": camel(self.resolve.worlds[wid].name)})
        files[f"{pkg}/_abi.py"] = self.abi_module()
        files[f"{pkg}/_fast.py"] = python_fast.generate_module(self)
        runtime = hostrt.FILES + (_ASYNC_RUNTIME if self.async_worlds else ())
        files[f"{pkg}/_version.py"] = self.render(
            "_version.py.j2", wasmtime_requirement=WASMTIME_REQUIREMENT, runtime=runtime
        )
        files[f"{pkg}/__init__.py"] = self.render(
            "__init__.py.j2", worlds=worlds, async_runtime=bool(self.async_worlds)
        )
        out = _format_all(files)
        for name in runtime:  # the host runtime, verbatim (already black-formatted)
            out[f"{pkg}/{name}"] = read_text(hostrt.HERE / name)
        out[f"{pkg}/py.typed"] = ""
        return out


# Below this much generated text black runs in this process; above it, on every core.
_PARALLEL_FORMAT_CHARS = 400_000

# the kinds whose Python function is a method of a resource object (its handle is `self`)
_METHOD_KINDS = frozenset({"method", "method-getter", "method-setter", "async-method"})


def _format_all(files: dict[str, str]) -> dict[str, str]:
    """Black over every module. Black takes almost all the time of generating a large package
    (linear in its size); a large package's modules are formatted in forked worker processes,
    largest first, one per core."""
    workers = min(os.cpu_count() or 1, len(files))
    total = sum(len(text) for text in files.values())
    if workers < 2 or total < _PARALLEL_FORMAT_CHARS or "fork" not in mp.get_all_start_methods():
        return {path: _format(text, path) for path, text in files.items()}
    order = sorted(files, key=lambda path: -len(files[path]))
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
        formatted = pool.map(_format, [files[path] for path in order], order)
        done = dict(zip(order, formatted))
    return {path: done[path] for path in files}


def _format(text: str, path: str) -> str:
    try:
        mode = black.Mode(target_versions={TargetVersion.PY310})
        return black.format_str(text, mode=mode)
    except InvalidInput as exc:  # a bug in a template: show the file to whoever fixes it
        raise RuntimeError(f"generated {path} is not valid Python: {exc}\n{text}") from None


def _tuple_text(items: list[str]) -> str:
    """A tuple display without a magic trailing comma (black would explode it)."""
    if len(items) == 1:
        return f"({items[0]},)"
    return f"({', '.join(items)})"


# Names the generated modules import or define beside a WIT type's class: typing's names and
# the runtime's value wrappers (a WIT type `result` or `any` must not shadow them).
_MODULE_NAMES = frozenset(
    {"Any", "Optional", "Protocol", "TypeAlias", "Union", "Result", "Some", "Ok", "Err"}
)
# What a world module (world.py.j2) and an interface module (interface.py.j2) define or import
# besides the types they import: an imported type of the same name is imported under an alias.
_WORLD_MODULE_NAMES = frozenset(
    {"os", "Path", "Any", "Optional", "Protocol", "cast", "_abi", "_batch", "_fast", "_runtime"}
)
_IFACE_MODULE_NAMES = frozenset(
    {"enum", "dataclass", "INTERFACE", "_runtime", "cast", "TypeAlias", "Any", "Optional"}
    | {"Protocol", "Union"}
)
# What an async world module (async_world.py.j2) defines or imports besides its types.
_ASYNC_WORLD_MODULE_NAMES = frozenset({"os", "Any", "Optional", "Protocol", "_abi", "_asyncvals"})
_ASYNC_WORLD_MODULE_NAMES |= {"_runtime"}
# The host runtime files the packages with async worlds also get (beside `hostrt.FILES`).
_ASYNC_RUNTIME = ("_async.py", "_asyncvals.py")
# The parameters of a world class's `prepare`/`load` other than its imports' objects.
_PREPARE_PARAMS = ("cls", "component", "limits", "wasi", "cache_dir", "cache", "fast")
# The attributes and methods of a world class other than its exports (see world.py.j2).
_WORLD_ATTRS = (
    "EXPORTS",
    "prepared",
    "prepare",
    "load",
    "call_batch",
    "close",
    "fast",
    "_instance",
)


def _unique(name: str, taken: set[str]) -> str:
    """`name`, or `name_` (`name__`...) when taken; then taken."""
    while name in taken:
        name += "_"
    taken.add(name)
    return name


_PRIM_DESCS = {
    **{name: name.upper() for name in ("u8", "s8", "u16", "s16", "u32", "s32", "u64", "s64")},
    "bool": "BOOL",
    "f32": "F32",
    "f64": "F64",
    "char": "CHAR",
    "string": "STRING",
}
_INT_RANGES = {
    "u8": (0, 2**8 - 1),
    "s8": (-(2**7), 2**7 - 1),
    "u16": (0, 2**16 - 1),
    "s16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1),
    "s32": (-(2**31), 2**31 - 1),
    "u64": (0, 2**64 - 1),
    "s64": (-(2**63), 2**63 - 1),
}


def generate(resolve: ir.Resolve, worlds: list[int], options: GenerateOptions) -> dict[str, str]:
    require_worlds(resolve, worlds, "Python")
    return Generator(resolve, worlds, options).generate()
