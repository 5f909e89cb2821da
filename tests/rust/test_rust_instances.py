"""One interface with resources imported and exported under several names, in a real Rust guest
(tests/rust/guests/instances.rs over tests/rust/wit/instances.wit): `files` is imported as
`left` and `right` and exported as `mine` and `yours`. Each instance has resource types of its
own: the guest's `mine` files are opened through `left`, its `yours` files through `right`, and
each export's handles live in a table of their own.

The guest is built into a component that `wasm-tools component new` checks against the WIT; it
runs on its core module (see core_guest.py): wasmtime-py cannot instantiate components that
import or export an interface under a name of its own.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from witgen.toolchains import rust as toolchain

from .build import WIT, build_all, load
from .core_guest import CoreGuest, interface_functions
from .toolchain import require_rust_toolchain

IFACE = "witgen:instances/files"


class HostFiles:
    """One imported instance of `files`, served by Python: a table of open files."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.files: dict[int, str] = {}
        self.next = 1
        self.dropped: list[str] = []

    def _open(self, path: str) -> int:
        handle, self.next = self.next, self.next + 1
        self.files[handle] = f"{self.name}/{path}"
        return handle

    def _drop(self, handle: int) -> None:
        self.dropped.append(self.files.pop(handle))

    def impls(self) -> dict[str, Callable[..., Any]]:
        return {
            "[constructor]file": self._open,
            "[method]file.path": lambda h: self.files[h],
            "open": self._open,
            "describe": lambda h: f"{self.name} has {self.files[h]}",
            "[resource-drop]file": self._drop,
        }


@pytest.fixture()
def guest() -> tuple[CoreGuest, HostFiles, HostFiles]:
    require_rust_toolchain()
    assert build_all()["instances-guest"].read_bytes()[:8] == b"\0asm\x0d\0\x01\0"
    resolve, _ = load(WIT / "instances.wit")
    functions = interface_functions(resolve, IFACE)
    left, right = HostFiles("left"), HostFiles("right")
    core = CoreGuest(
        toolchain.core_module("instances-guest"),
        resolve,
        {"left": (functions, left.impls()), "right": (functions, right.impls())},
        {"mine": functions, "yours": functions},
    )
    return core, left, right


def test_each_export_uses_its_own_import(guest: tuple[CoreGuest, HostFiles, HostFiles]) -> None:
    core, left, right = guest
    mine = core.call("mine", "open", "a.txt")
    yours = core.call("yours", "open", "b.txt")
    assert core.call("mine", "[method]file.path", core.rep("mine", mine)) == "mine:left/a.txt"
    assert core.call("yours", "[method]file.path", core.rep("yours", yours)) == "yours:right/b.txt"
    assert core.call("mine", "describe", core.rep("mine", mine)) == "mine has mine:left/a.txt"
    # the guest dropped the host files it opened, each in its own instance
    assert left.dropped == ["left/a.txt"] and right.dropped == ["right/b.txt"]
    assert left.files == {} and right.files == {}


def test_each_export_has_its_own_handles(guest: tuple[CoreGuest, HostFiles, HostFiles]) -> None:
    core, _left, right = guest
    made = core.call("yours", "[constructor]file", "c")
    assert core.call("yours", "[method]file.path", core.rep("yours", made)) == (
        "yours:right has right/c"
    )
    assert core.tables["mine"] == {} and list(core.tables["yours"]) == [made]
    core.drop("yours", "file", made)  # the guest's destructor runs
    assert core.tables["yours"] == {} and right.files == {}
