"""Merge unresolved packages into one arena (wit-parser's `Resolve::push` and `Remap`).

Each package's own arenas are appended in order, dropping items gated off by features,
connecting foreign references to packages pushed earlier; then each world gets its
`include`s applied and is elaborated (interfaces that its imports and exports depend on
are added as imports, in wit-parser's order).
"""

from __future__ import annotations

from typing import Any

from witgen import ir
from witgen.diagnostics import Span, WitError, suggest
from witgen.frontend.model import (
    FunctionM,
    InterfaceM,
    PackageM,
    TypeDefM,
    WorldM,
    kind_refs,
    map_kind,
)
from witgen.frontend.resolver import Unresolved, canonical_name, place_setters_after_getters


def version_key(v: str) -> tuple[Any, ...]:
    core, _, _build = v.partition("+")
    core, _, pre = core.partition("-")
    nums = tuple(int(x) for x in core.split("."))
    if not pre:
        return nums + ((1,),)
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return nums + ((0, parts),)


class Merger:
    def __init__(self, features: frozenset[str], all_features: bool):
        self.features = features
        self.all_features = all_features
        self.types: list[TypeDefM] = []
        self.interfaces: list[InterfaceM] = []
        self.worlds: list[WorldM] = []
        self.packages: list[PackageM] = []
        self.package_names: dict[str, int] = {}
        # resource (or alias of one) -> the anonymous `own<..>` handle type made for it
        self.own_handles: dict[int, int] = {}

    # ------------------------------------------------------------------ stability

    def _include(self, st: ir.Stability, pkg: int, span: Span | None) -> bool:
        if st.kind == "unknown":
            return True
        if st.kind == "stable":
            p = self.packages[pkg]
            if "@" not in p.name:
                raise WitError(
                    f"package [{p.name}] contains a feature gate with a version specifier, "
                    "so it must have a version",
                    span,
                )
            version = p.name.split("@", 1)[1]
            assert st.since is not None
            if version_key(st.since) > version_key(version):
                raise WitError(
                    f"feature gate cannot reference unreleased version {st.since} of package "
                    f"[{p.name}] (current version {version})",
                    span,
                )
            return True
        return self.all_features or st.feature in self.features

    # ------------------------------------------------------------------ append

    def append(self, u: Unresolved) -> int:
        if u.name in self.package_names:
            raise WitError(
                f"attempting to re-add package `{u.name}` when it's already present in this "
                "`Resolve`",
                u.name_span,
            )
        pkg = len(self.packages)
        self.packages.append(PackageM(u.name, u.docs, span=u.name_span))
        self.package_names[u.name] = pkg

        type_map: list[int | None] = [None] * len(u.types)
        iface_map: list[int | None] = [None] * len(u.interfaces)
        world_map: list[int | None] = [None] * len(u.worlds)
        self._foreign(u, type_map, iface_map, world_map)

        def mt(t: Any, span: Span | None = None) -> Any:
            if not isinstance(t, int):
                return t
            new = type_map[t]
            if new is None:
                raise WitError(
                    "found a reference to a type which is excluded due to its feature not "
                    "being activated",
                    span if span is not None else u.types[t].span,
                )
            return new

        for tid in range(u.n_foreign_types, len(u.types)):
            ty = u.types[tid]
            if not self._include(ty.stability, pkg, ty.span):
                continue
            kind = self._map_members(ty.kind, ty.span, mt)
            if not isinstance(kind, (ir.Alias, ir.Handle)):
                kind = map_kind(kind, self._own)
            owner = ty.owner
            self.types.append(
                TypeDefM(ty.name, kind, owner, ty.docs, ty.stability, ty.span, ty.external_id)
            )
            type_map[tid] = len(self.types) - 1
            if ty.name is None and isinstance(kind, ir.Handle) and kind.kind == "own":
                self.own_handles.setdefault(kind.resource, type_map[tid])  # type: ignore[arg-type]

        new_ifaces: list[int] = []
        for iid, iface in enumerate(u.interfaces):
            if iid in u.foreign_interfaces:
                continue
            if not self._include(iface.stability, pkg, iface.span):
                continue
            types = {n: type_map[t] for n, t in iface.types.items() if type_map[t] is not None}
            funcs: dict[str, FunctionM] = {}
            for fname, fn in iface.functions.items():
                # (an unannotated function, the commonest, is always included: no call)
                if fn.stability.kind != "unknown" and not self._include(fn.stability, pkg, fn.span):
                    continue
                funcs[fname] = self._update_function(fn, mt)
            new = InterfaceM(iface.name, types, funcs, pkg, iface.docs, iface.stability, iface.span)  # type: ignore[arg-type]
            self.interfaces.append(new)
            iface_map[iid] = len(self.interfaces) - 1
            new_ifaces.append(len(self.interfaces) - 1)

        local_types: list[tuple[int, tuple[str, int] | None]] = []
        for tid in range(u.n_foreign_types, len(u.types)):
            copied = type_map[tid]
            if copied is not None:
                local_types.append((copied, u.types[tid].owner))
        for new_t, owner in local_types:
            if owner is not None and owner[0] == "interface":
                mapped_owner = iface_map[owner[1]]
                if mapped_owner is None:
                    raise WitError(
                        "found a reference to a interface which is excluded due to its feature "
                        "not being activated; this type is not gated by a feature but its "
                        "interface is",
                        self.types[new_t].span,
                    )
                self.types[new_t].owner = ("interface", mapped_owner)

        # Worlds in two passes, as wit-parser: first each world's own items (feature gates,
        # ids), then `include`s and elaboration once every world of the package exists.
        new_worlds: list[int] = []
        pending: list[tuple[int, WorldM, dict[int, dict[int, int]]]] = []
        for wid, world in enumerate(u.worlds):
            if wid in u.foreign_worlds:
                continue
            if not self._include(world.stability, pkg, world.span):
                continue
            new_w, overlaps = self._update_world(world, pkg, mt, iface_map, world_map, type_map)
            self.worlds.append(new_w)
            new_id = len(self.worlds) - 1
            world_map[wid] = new_id
            new_worlds.append(new_id)
            pending.append((new_id, world, overlaps))
        for new_t, owner in local_types:
            if owner is not None and owner[0] == "world":
                mapped_world = world_map[owner[1]]
                if mapped_world is None:
                    raise WitError(
                        "found a reference to a world which is excluded due to its feature not "
                        "being activated; this type is not gated by a feature but its world is",
                        self.types[new_t].span,
                    )
                self.types[new_t].owner = ("world", mapped_world)
        for new_id, world, overlaps in pending:
            for inc in world.includes:
                if not self._include(inc.stability, pkg, inc.span):
                    continue
                target = world_map[inc.world]
                if target is None:
                    raise WitError(
                        "found a reference to a world which is excluded due to its feature not "
                        "being activated",
                        inc.span,
                    )
                self._include_world(
                    self.worlds[new_id], new_id, target, inc.names, inc.span, overlaps[id(inc)]
                )
            _strongly_unique(self.worlds[new_id])
            _setters_have_getters(self.worlds[new_id])
            self._elaborate_world(new_id)

        p = self.packages[pkg]
        for i in new_ifaces:
            it = self.interfaces[i]
            if it.name is not None:
                p.interfaces[it.name] = i
        for i in new_worlds:
            p.worlds[self.worlds[i].name] = i
        for tid, span in u.required_resources:
            required = type_map[tid]
            if required is None:
                continue
            new_t = required
            cur = new_t
            while isinstance(self.types[cur].kind, ir.Alias) and isinstance(
                self.types[cur].kind.type, int
            ):
                cur = self.types[cur].kind.type
            if not isinstance(self.types[cur].kind, ir.Resource):
                raise WitError(f"type used in a handle must be a resource", span)
        return pkg

    def _foreign(
        self,
        u: Unresolved,
        type_map: list[int | None],
        iface_map: list[int | None],
        world_map: list[int | None],
    ) -> None:
        pkg = len(self.packages) - 1
        for want in ("interface", "world"):
            for pkg_name, items in u.foreign_deps.items():
                for name, ((kind, local), uses) in items.items():
                    if kind != want:
                        continue
                    # a dependency only used under disabled features is not needed at all
                    if not any(self._include(st, pkg, sp) for st, sp in uses):
                        continue
                    span = u.foreign_item_spans.get((kind, local))
                    pid = self.package_names.get(pkg_name)
                    if pid is None:
                        known = "".join(f"\n  {n}" for n in sorted(self.package_names))
                        raise WitError(
                            f"package '{pkg_name}' not found. known packages:{known}",
                            u.foreign_dep_spans[pkg_name],
                            help=suggest(pkg_name, self.package_names),
                        )
                    p = self.packages[pid]
                    found = (p.interfaces if kind == "interface" else p.worlds).get(name)
                    if found is None:
                        there = p.interfaces if kind == "interface" else p.worlds
                        raise WitError(
                            f"{kind} '{name}' not found in package '{pkg_name}'",
                            span,
                            help=suggest(name, there),
                        )
                    (iface_map if kind == "interface" else world_map)[local] = found
        for tid in range(u.n_foreign_types):
            ty = u.types[tid]
            assert ty.owner is not None and ty.name is not None
            real_iface = iface_map[ty.owner[1]]
            if real_iface is None:  # its interface is not needed (disabled features)
                continue
            if not self._include(ty.stability, pkg, ty.span):
                continue  # first imported under a disabled feature: excluded
            real = self.interfaces[real_iface].types.get(ty.name)
            if real is None:
                types = self.interfaces[real_iface].types
                raise WitError(
                    f"type `{ty.name}` not defined in interface",
                    ty.span,
                    help=suggest(ty.name, types),
                )
            type_map[tid] = real

    @staticmethod
    def _map_members(kind: Any, span: Span | None, mt: Any) -> Any:
        """Map a kind's references; an excluded one is reported at the record field that
        refers to it (at the type itself for every other kind)."""
        if isinstance(kind, ir.Record):
            return ir.Record(
                tuple(ir.Field(f.name, mt(f.type, f.span), f.docs, f.span) for f in kind.fields)
            )
        return map_kind(kind, lambda x: mt(x, span))

    def _own(self, t: Any) -> Any:
        """A reference to a resource where a value is expected means `own<resource>`."""
        if not isinstance(t, int):
            return t
        cur = t
        while True:
            kind = self.types[cur].kind
            if isinstance(kind, ir.Alias) and isinstance(kind.type, int):
                cur = kind.type
                continue
            break
        if not isinstance(kind, ir.Resource):
            return t
        hit = self.own_handles.get(t)
        if hit is None:
            self.types.append(
                TypeDefM(
                    None,
                    ir.Handle("own", t),
                    None,
                    ir.NO_DOCS,
                    ir.UNKNOWN_STABILITY,
                    self.types[t].span,
                )
            )
            hit = self.own_handles[t] = len(self.types) - 1
        return hit

    def _update_function(self, fn: FunctionM, mt: Any, in_world: bool = False) -> FunctionM:
        # an excluded type is reported at the function (interfaces) or at the type (worlds)
        span = None if in_world else fn.span
        resource = None if fn.resource is None else mt(fn.resource, span)
        own = self._own
        # a primitive (a str) maps to itself and is never a resource: no calls for it
        params = [(n, t if t.__class__ is str else own(mt(t, span)), s) for n, t, s in fn.params]
        result = fn.result
        if result is not None and result.__class__ is not str:
            result = own(mt(result, span))
        new = FunctionM(
            fn.name,
            fn.kind,
            resource,
            params,
            result,
            fn.docs,
            fn.stability,
            fn.span,
            fn.external_id,
        )
        if result is not None and self._contains_borrow(result):
            name = fn.name
            raise WitError(
                f"function `{name}` returns a type which contains a `borrow<T>` which is not "
                "supported",
                fn.span,
            )
        return new

    def _contains_borrow(self, t: Any) -> bool:
        if not isinstance(t, int):
            return False
        kind = self.types[t].kind
        # remembered per type (and its kind, in case the type is rewritten later): every
        # function returning the same record would otherwise walk it again
        memo: dict[int, tuple[Any, bool]] = self.__dict__.setdefault("_borrow_memo", {})
        hit = memo.get(t)
        if hit is not None and hit[0] is kind:
            return hit[1]
        if isinstance(kind, ir.Handle):
            found = kind.kind == "borrow"
        else:
            # named types were checked where they are defined; still look inside
            found = any(self._contains_borrow(r) for r in kind_refs(kind))
        memo[t] = (kind, found)
        return found

    # ------------------------------------------------------------------ worlds

    def _update_world(
        self,
        world: WorldM,
        pkg: int,
        mt: Any,
        iface_map: list[int | None],
        world_map: list[int | None],
        type_map: list[int | None],
    ) -> tuple[WorldM, dict[int, dict[int, int]]]:
        new = WorldM(
            world.name, package=pkg, docs=world.docs, stability=world.stability, span=world.span
        )
        # Types this world imports by name stand in for same-named types of included worlds
        # (mapped first: wit-parser reports an excluded one before anything else).
        overlaps: dict[int, dict[int, int]] = {}
        item: Any
        for inc in world.includes:
            overlap: dict[int, int] = {}
            target_w = world_map[inc.world]
            if target_w is not None and self._include(inc.stability, pkg, inc.span):
                for key, item in world.imports.items():
                    prev = self.worlds[target_w].imports.get(key)
                    if key[0] == "name" and item[0] == "type" and prev and prev[0] == "type":
                        overlap[prev[1]] = mt(item[1])
            overlaps[id(inc)] = overlap
        for direction in ("imports", "exports"):
            src: dict[Any, Any] = getattr(world, direction)
            spans: dict[Any, Any] = getattr(
                world, "import_spans" if direction == "imports" else "export_spans"
            )
            dst: dict[Any, Any] = getattr(new, direction)
            dspans: dict[Any, Any] = getattr(
                new, "import_spans" if direction == "imports" else "export_spans"
            )
            for key, item in src.items():
                span = spans.get(key)
                if item[0] == "type":
                    # wit-parser maps a world's type before looking at its gate: a world type
                    # excluded by a disabled feature is an error, not a silent omission
                    item = ("type", mt(item[1], span))
                    stability = self.types[item[1]].stability
                elif item[0] == "interface":
                    stability = item[2]
                else:
                    stability = item[1].stability
                if not self._include(stability, pkg, span):
                    continue
                if key[0] == "interface":
                    mapped = iface_map[key[1]]
                    if mapped is None:
                        raise WitError("interface is excluded by its feature gate", span)
                    key = ("interface", mapped)
                if item[0] == "interface":
                    mapped_i = iface_map[item[1]]
                    if mapped_i is None:
                        continue
                    item = ("interface", mapped_i, item[2], item[3], item[4])
                elif item[0] == "function":
                    item = ("function", self._update_function(item[1], mt, in_world=True))
                dst[key] = item
                dspans[key] = span
        return new, overlaps

    def _include_world(
        self,
        world: WorldM,
        world_id: int,
        target: int,
        names: list[tuple[str, str]],
        span: Span,
        overlap: dict[int, int],
    ) -> None:
        inc = self.worlds[target]
        remaining = list(names)
        for items in (inc.imports, inc.exports):
            for key in items:
                if key[0] == "name":
                    remaining = [n for n in remaining if _rename(key[1], n) is None]
        if remaining:
            raise WitError(
                f"no import or export kebab-name `{remaining[0][0]}`. Note that an ID does not "
                "support renaming",
                span,
            )
        external = inc.package != world.package
        cloner = _Cloner(self, ("world", target), ("world", world_id), world.package)
        cloner.map.update(overlap)
        for what, src, dst, dspans in (
            ("import", inc.imports, world.imports, world.import_spans),
            ("export", inc.exports, world.exports, world.export_spans),
        ):
            for key, item in src.items():
                if key[0] == "name":
                    item = cloner.world_item(item)
                if item[0] == "interface":
                    # docs stay with the original import; stability that refers to another
                    # package's versions is dropped (for imports by path; named ones keep it)
                    st = item[2]
                    if external and st.kind == "stable" and key[0] == "interface":
                        st = ir.UNKNOWN_STABILITY
                    item = ("interface", item[1], st, item[3], item[4])
                if key[0] == "name":
                    n = next(
                        (r for r in (_rename(key[1], m) for m in names) if r is not None), key[1]
                    )
                    nk = ("name", n)
                    if nk in dst:
                        raise WitError(f"{what} of `{n}` shadows previously {what}ed items", span)
                    if n != key[1] and item[0] == "type":
                        self.types[item[1]].name = n  # the included world's copy, renamed
                    if n != key[1] and item[0] == "function":
                        f = item[1]
                        item = (
                            "function",
                            FunctionM(
                                n,
                                f.kind,
                                f.resource,
                                f.params,
                                f.result,
                                f.docs,
                                f.stability,
                                f.span,
                                f.external_id,
                            ),
                        )
                    dst[nk] = item
                    dspans[nk] = span
                else:
                    prev = dst.get(key)
                    if prev is None:
                        dst[key] = item
                        dspans[key] = span
                    elif prev[2].kind == "unknown" and item[2].kind != "unknown":
                        # an unannotated import takes the stability of the included one
                        dst[key] = (prev[0], prev[1], item[2], prev[3], prev[4])
                    elif item[2].kind != "unknown" and item[2] != prev[2]:
                        spans = inc.import_spans if what == "import" else inc.export_spans
                        raise WitError(
                            f"mismatch in stability from '{_debug_stability(item[2])}' to "
                            f"'{_debug_stability(prev[2])}'",
                            spans.get(key) or span,
                        )

    def _type_iface_dep(self, tid: int) -> int | None:
        ty = self.types[tid]
        kind = ty.kind
        if not isinstance(kind, ir.Alias) or not isinstance(kind.type, int):
            return None
        other = self.types[kind.type]
        if ty.owner == other.owner:
            return None
        if other.owner is not None and other.owner[0] == "interface":
            return int(other.owner[1])
        return None

    def _iface_deps(self, iid: int) -> list[int]:
        out = []
        for t in self.interfaces[iid].types.values():
            d = self._type_iface_dep(t)
            if d is not None:
                out.append(d)
        return out

    def _sort_key(self, item: Any) -> int:
        if item[0] == "interface":
            return 0
        if item[0] == "type":
            ty = self.types[item[1]]
            k = ty.kind
            if (
                isinstance(k, ir.Alias)
                and isinstance(k.type, int)
                and self.types[k.type].owner != ty.owner
            ):
                return 1
            return 2
        return 3 if item[1].resource is None else 4

    def _elaborate_world(self, wid: int) -> None:
        world = self.worlds[wid]
        new_imports: dict[Any, Any] = {}
        new_spans: dict[Any, Any] = {}

        def add_import(
            key: Any,
            iid: int,
            stability: ir.Stability,
            docs: ir.Docs = ir.NO_DOCS,
            external_id: str | None = None,
        ) -> None:
            if key in new_imports:
                return
            for dep in self._iface_deps(iid):  # dependencies get no docs nor external id
                add_import(("interface", dep), dep, stability)
            new_imports[key] = ("interface", iid, stability, docs, external_id)

        items = sorted(world.imports.items(), key=lambda kv: self._sort_key(kv[1]))
        for key, item in items:
            if item[0] == "interface":
                add_import(key, item[1], item[2], item[3], item[4])
            elif item[0] == "function":
                new_imports[key] = item
            else:
                dep = self._type_iface_dep(item[1])
                if dep is not None:
                    add_import(("interface", dep), dep, self.types[item[1]].stability)
                new_imports[key] = item
        new_exports: dict[Any, Any] = {}
        # keyed like wit-parser by world key: a named export of an interface (`export a: i;`)
        # does not stand for `export i;` when another export depends on `i`
        export_ifaces: dict[Any, tuple[int, ir.Stability, ir.Docs, str | None]] = {}
        for key, item in world.exports.items():
            if item[0] == "interface":
                export_ifaces[key] = (item[1], item[2], item[3], item[4])
            else:
                new_exports[key] = item
        required: set[int] = set()

        def add_export(
            iid: int,
            key: Any,
            is_export: bool,
            stability: ir.Stability,
            docs: ir.Docs = ir.NO_DOCS,
            external_id: str | None = None,
        ) -> bool:
            if key in new_exports:
                return is_export
            if not is_export and iid in required:
                return True
            for dep in self._iface_deps(iid):
                if not add_export(
                    dep,
                    ("interface", dep),
                    is_export and ("interface", dep) in export_ifaces,
                    stability,
                    ir.NO_DOCS,
                    external_id,  # wit-parser hands an export's external id to its deps
                ):
                    return False
            item = ("interface", iid, stability, docs, external_id)
            if is_export:
                if iid in required:
                    return False
                new_exports[key] = item
            else:
                required.add(iid)
                if key not in new_imports:  # an explicit import keeps its docs and stability
                    new_imports[key] = item
            return True

        for key, (iid, stability, docs, external_id) in export_ifaces.items():
            if not add_export(iid, key, True, stability, docs, external_id):
                name = key[1] if key[0] == "name" else self._iface_name(iid)
                raise WitError(
                    f"interface `{name}` transitively depends on an interface in "
                    "incompatible ways",
                    world.span,
                )
        ordered = sorted(new_imports.items(), key=lambda kv: self._sort_key(kv[1]))
        world.imports = dict(ordered)
        for k in world.imports:
            new_spans[k] = world.import_spans.get(k)
        world.import_spans = new_spans
        world.exports = new_exports
        # the two recursive closures refer to themselves (and so to self): without this the
        # whole merger would wait for the cyclic collector, which `check` runs without
        del add_import, add_export

    def _iface_name(self, iid: int) -> str:
        it = self.interfaces[iid]
        if it.package is None or it.name is None:
            return str(it.name)
        pkg = self.packages[it.package].name
        base, _, ver = pkg.partition("@")
        return f"{base}/{it.name}" + (f"@{ver}" if ver else "")

    # ------------------------------------------------------------------ freeze

    def freeze(self, main: int | None) -> ir.Resolve:
        def key(k: Any) -> ir.WorldKey:
            return ir.WorldKey(name=k[1]) if k[0] == "name" else ir.WorldKey(interface=k[1])

        def fn(f: FunctionM) -> ir.Function:
            # Params and functions are the most numerous IR objects: their fields are written
            # into the instance dicts (in field order) rather than through the frozen
            # dataclasses' __init__ (one object.__setattr__ per field); equal objects, made
            # three times faster
            params = []
            for n, t, s in f.params:
                param = _new_object(ir.Param)
                fields = param.__dict__
                fields["name"] = n
                fields["type"] = t
                fields["span"] = s
                params.append(param)
            func = _new_object(ir.Function)
            fields = func.__dict__
            fields["name"] = f.name
            fields["kind"] = f.kind
            fields["resource"] = f.resource
            fields["params"] = tuple(params)
            fields["result"] = f.result
            fields["docs"] = f.docs
            fields["stability"] = f.stability
            fields["span"] = f.span
            fields["external_id"] = f.external_id
            return func

        def item(it: Any) -> ir.WorldItem:
            if it[0] == "interface":
                return ir.WorldInterface(it[1], it[2], it[3], it[4])
            if it[0] == "function":
                return ir.WorldFunction(fn(it[1]))
            return ir.WorldType(it[1])

        types = tuple(
            ir.TypeDef(
                t.name,
                t.kind,
                None if t.owner is None else ir.TypeOwner(t.owner[0], t.owner[1]),
                t.docs,
                t.stability,
                t.span,
                t.external_id,
            )
            for t in self.types
        )
        interfaces = tuple(
            ir.Interface(
                i.name,
                dict(i.types),
                {k: fn(f) for k, f in i.functions.items()},
                i.package,
                i.docs,
                i.stability,
                i.span,
                i.clone_of,
            )
            for i in self.interfaces
        )
        worlds = tuple(
            ir.World(
                w.name,
                tuple(
                    ir.WorldEntry(key(k), item(v), w.import_spans.get(k))
                    for k, v in w.imports.items()
                ),
                tuple(
                    ir.WorldEntry(key(k), item(v), w.export_spans.get(k))
                    for k, v in w.exports.items()
                ),
                w.package,
                w.docs,
                w.stability,
                w.span,
            )
            for w in self.worlds
        )
        packages = tuple(
            ir.Package(p.name, dict(p.interfaces), dict(p.worlds), p.docs, p.span)
            for p in self.packages
        )
        return ir.Resolve(packages, interfaces, worlds, types, main)


_new_object = object.__new__


def _strongly_unique(world: WorldM) -> None:
    """After includes, a world's imports and its exports must each still be strongly unique
    (wit-parser reports this without a location)."""
    for what, items in (("import", world.imports), ("export", world.exports)):
        seen: dict[str, str] = {}
        for key in items:
            if key[0] != "name":
                continue
            canon = canonical_name(key[1])
            prev = seen.get(canon)
            if prev is not None:
                raise WitError(
                    f"{what} `{key[1]}` in world `{world.name}` conflicts with {what} `{prev}` "
                    "(names must be strongly unique)"
                )
            seen[canon] = key[1]


def _setters_have_getters(world: WorldM) -> None:
    """Setters move after their getters; each needs one (which an include may provide)."""

    def func_of(item: Any) -> FunctionM | None:
        return item[1] if item[0] == "function" else None

    world.imports = place_setters_after_getters(world.imports, func_of)
    world.exports = place_setters_after_getters(world.exports, func_of)
    for what, items, spans in (
        ("import", world.imports, world.import_spans),
        ("export", world.exports, world.export_spans),
    ):
        for key, item in items.items():
            fn = func_of(item)
            if fn is None or not fn.kind.endswith("setter"):
                continue
            getter = fn.name.replace("[set]", "[get]", 1)
            if ("name", getter) not in items:
                raise WitError(
                    f"{what} `{fn.name}` in world `{world.name}` has no corresponding getter "
                    f"`{getter}`",
                    spans.get(key),
                )


def _rename(original: str, rename: tuple[str, str]) -> str | None:
    """The new name of world item `original` under `include ... with { a as b }`, if it
    names `a`: the whole label, or the resource part of a `[method]a.f`-style name."""
    rest = original
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None
        rest = rest[close + 1 :]
    prefix = original[: len(original) - len(rest)]
    resource, dot, func = rest.partition(".")
    if dot:
        return f"{prefix}{rename[1]}.{func}" if resource == rename[0] else None
    return f"{prefix}{rename[1]}" if rest == rename[0] else None


def _debug_version(v: str) -> str:
    core, _, build = v.partition("+")
    core, _, pre = core.partition("-")
    major, minor, patch = core.split(".")
    out = f"Version {{ major: {major}, minor: {minor}, patch: {patch}"
    if pre:
        out += f', pre: Prerelease("{pre}")'
    if build:
        out += f', build: BuildMetadata("{build}")'
    return out + " }"


def _debug_stability(st: ir.Stability) -> str:
    """Rust's `{:?}` of a wit-parser `Stability` (it appears in some of its messages)."""
    dep = "None" if st.deprecated is None else f"Some({_debug_version(st.deprecated)})"
    if st.kind == "stable":
        assert st.since is not None
        return f"Stable {{ since: {_debug_version(st.since)}, deprecated: {dep} }}"
    if st.kind == "unstable":
        return f'Unstable {{ feature: "{st.feature}", deprecated: {dep} }}'
    return "Unknown"


class _Cloner:
    """Deep copy of the named items a world `include`s (wit-parser's `resolve/clone.rs`):
    types owned by the included world, anonymous types and inline interfaces get fresh
    copies owned by the including world, so each world owns what it imports."""

    def __init__(
        self, merger: Merger, prev: tuple[str, int], new: tuple[str, int], pkg: int | None
    ):
        self.m = merger
        self.prev = prev
        self.new = new
        self.pkg = pkg
        self.map: dict[int, int] = {}

    def world_item(self, item: Any) -> Any:
        if item[0] == "type":
            return ("type", self.type_id(item[1]))
        if item[0] == "function":
            return ("function", self.function(item[1]))
        if self.m.interfaces[item[1]].name is not None:
            return item  # a named interface under a plain name (`import a: i;`) is shared
        return ("interface", self.interface(item[1]), item[2], item[3], item[4])

    def type_id(self, t: int) -> int:
        hit = self.map.get(t)
        if hit is not None:
            return hit
        old = self.m.types[t]
        owner = old.owner
        if owner is not None:
            owner = self.new
        kind = old.kind
        if isinstance(kind, ir.Alias):
            if isinstance(kind.type, int) and self.m.types[kind.type].owner == self.prev:
                kind = ir.Alias(self.type_id(kind.type))
        elif isinstance(kind, ir.Handle):
            kind = ir.Handle(kind.kind, self.type_id(kind.resource))
        else:
            kind = map_kind(kind, self.type_id)
        self.m.types.append(
            TypeDefM(old.name, kind, owner, old.docs, old.stability, old.span, old.external_id)
        )
        new_id = len(self.m.types) - 1
        self.map[t] = new_id
        return new_id

    def ty(self, t: Any) -> Any:
        return self.type_id(t) if isinstance(t, int) else t

    def function(self, f: FunctionM) -> FunctionM:
        resource = None if f.resource is None else self.type_id(f.resource)
        params = [(n, self.ty(t), s) for n, t, s in f.params]
        result = None if f.result is None else self.ty(f.result)
        return FunctionM(
            f.name, f.kind, resource, params, result, f.docs, f.stability, f.span, f.external_id
        )

    def interface(self, iid: int) -> int:
        old = self.m.interfaces[iid]
        next_id = len(self.m.interfaces)
        inner = _Cloner(self.m, ("interface", iid), ("interface", next_id), self.pkg)
        inner.map = self.map  # anonymous types shared with the world are copied once
        types = {n: inner.type_id(t) for n, t in old.types.items()}
        funcs = {n: inner.function(f) for n, f in old.functions.items()}
        self.m.interfaces.append(
            InterfaceM(old.name, types, funcs, self.pkg, old.docs, old.stability, old.span, iid)
        )
        return next_id
