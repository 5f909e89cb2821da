"""Rules over a world's imports and exports (interfaces, functions and types it names)."""

from __future__ import annotations

from witgen import ir
from witgen.compat.engine import GUESTS_ONLY, HOSTS_ONLY, NOBODY, Checker, Site
from witgen.compat.model import Side
from witgen.compat.registry import rule
from witgen.compat.view import Entry, WorldView


def _what(entry: Entry) -> str:
    return f"{entry.kind} `{entry.display}`"


def _uses(view: WorldView, entry: Entry) -> bool:
    """Whether a component of this world actually imports the entry (see view.py)."""
    if isinstance(entry.item, ir.WorldInterface):
        return view.interface_has_live_items(entry.item.id)
    return True


def _entry_site(site: Site, direction: str, entry: Entry) -> Site:
    return site.child(f"{direction} {entry.display}")


@rule(
    "IMPORT_ADDED",
    category="WORLD",
    target="world",
    summary="the world imports something new: hosts built against OLD do not provide it",
)
def import_added(ck: Checker, site: Site, old: WorldView, new: WorldView) -> None:
    for key, entry in new.imports.items():
        if key in old.imports:
            continue
        breaks = HOSTS_ONLY if _uses(new, entry) else NOBODY
        item_site = site.added_child(f"import {entry.display}", span=entry.span)
        ck.report("IMPORT_ADDED", item_site, breaks, f"{_what(entry)} is newly imported")
        ck.added_item(item_site, _node(new, entry))


@rule(
    "IMPORT_REMOVED",
    category="WORLD",
    target="world",
    summary="the world no longer imports something: guests built against OLD still need it",
)
def import_removed(ck: Checker, site: Site, old: WorldView, new: WorldView) -> None:
    for key, entry in old.imports.items():
        if key in new.imports:
            continue
        breaks = GUESTS_ONLY if _uses(old, entry) else NOBODY
        ck.report(
            "IMPORT_REMOVED",
            _entry_site(site, "import", entry),
            breaks,
            f"{_what(entry)} is no longer imported",
            old_span=entry.span,
        )


@rule(
    "EXPORT_ADDED",
    category="WORLD",
    target="world",
    summary="the world exports something new: guests built against OLD do not export it",
)
def export_added(ck: Checker, site: Site, old: WorldView, new: WorldView) -> None:
    for key, entry in new.exports.items():
        if key in old.exports:
            continue
        item_site = site.added_child(f"export {entry.display}", span=entry.span)
        ck.report("EXPORT_ADDED", item_site, GUESTS_ONLY, f"{_what(entry)} is newly exported")
        ck.added_item(item_site, _node(new, entry))


@rule(
    "EXPORT_REMOVED",
    category="WORLD",
    target="world",
    summary="the world no longer exports something: hosts built against OLD still call it",
)
def export_removed(ck: Checker, site: Site, old: WorldView, new: WorldView) -> None:
    for key, entry in old.exports.items():
        if key in new.exports:
            continue
        ck.report(
            "EXPORT_REMOVED",
            _entry_site(site, "export", entry),
            HOSTS_ONLY,
            f"{_what(entry)} is no longer exported",
            old_span=entry.span,
        )


@rule(
    "WORLD_ITEM_KIND_CHANGED",
    category="WORLD",
    target="world",
    summary="an import or export changed between interface, function and type",
)
def item_kind_changed(ck: Checker, site: Site, old: WorldView, new: WorldView) -> None:
    for direction, olds, news in (
        ("import", old.imports, new.imports),
        ("export", old.exports, new.exports),
    ):
        for key, new_e in news.items():
            old_e = olds.get(key)
            if old_e is None or old_e.kind == new_e.kind:
                continue
            breaks = frozenset({Side.GUESTS, Side.HOSTS})
            if direction == "import":
                breaks = frozenset(
                    s
                    for s, used in (
                        (Side.GUESTS, _uses(old, old_e)),
                        (Side.HOSTS, _uses(new, new_e)),
                    )
                    if used
                )
            ck.report(
                "WORLD_ITEM_KIND_CHANGED",
                _entry_site(site, direction, new_e),
                breaks,
                f"{direction} `{new_e.display}` changed from a {old_e.kind} to a {new_e.kind}",
                span=new_e.span,
                old_span=old_e.span,
            )


def _node(view: WorldView, entry: Entry) -> object:
    item = entry.item
    if isinstance(item, ir.WorldInterface):
        return view.resolve.interfaces[item.id]
    if isinstance(item, ir.WorldFunction):
        return item.function
    return view.resolve.types[item.id]
