"""The fast path honours a component's canonical options or leaves the component to the
generic path: guests built with each string encoding round-trip strings on both paths."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.python_host.wat_guests import GUESTS, build_guest

TEXTS = ["", "latin utf16", "héllo wörld", "日本語 ✓", "emoji 🦀 and 𝄞", "a" * 300]


@pytest.fixture(scope="module", params=["utf8", "utf16", "compact-utf16"])
def guest(request: pytest.FixtureRequest) -> tuple[str, Path]:
    encoding = str(request.param)
    component = build_guest(
        GUESTS / "enc",
        GUESTS / "enc.wat",
        "enc",
        f"test_enc_{encoding.replace('-', '_')}",
        encoding,
    )
    return encoding, component


class Host:
    def host_echo(self, s: str) -> str:
        return f"<{s}>"


def load(guest: tuple[str, Path], fast: bool | None) -> Any:
    import importlib

    encoding, component = guest
    package = importlib.import_module(f"test_enc_{encoding.replace('-', '_')}")
    return package.Enc.load(component, imports=Host(), cache=False, fast=fast)


@pytest.mark.parametrize("text", TEXTS)
def test_generic_path_round_trips_every_encoding(guest: tuple[str, Path], text: str) -> None:
    plugin = load(guest, fast=False)
    assert plugin.echo(text) == f"<{text}>"


def test_fast_path_runs_utf8_and_leaves_other_encodings_to_the_generic_path(
    guest: tuple[str, Path],
) -> None:
    encoding = guest[0]
    plugin = load(guest, fast=None)
    for text in TEXTS:
        assert plugin.echo(text) == f"<{text}>"
    if encoding == "utf8":
        assert plugin.prepared.mode == "core"
        return
    assert plugin.prepared.mode == "component"
    spelled = {"utf16": "utf16", "compact-utf16": "latin1+utf16"}[encoding]
    assert f"string-encoding={spelled}" in (plugin.prepared.fast_unavailable or "")
    with pytest.raises(Exception, match=re.escape(f"string-encoding={spelled}")) as info:
        load(guest, fast=True)
    assert type(info.value).__name__ == "PluginLoadError"
