"""The instruction stream (`witgen.abi.stream`) and the shared analysis (`witgen.abi.analysis`):
the decisions every backend spells (casts between joined flat types, the canonical list fast
case, allocation per role, post-return frees) and the reference interpreter running them.
The round trips against wasmtime (test_against_wasmtime.py) run the same stream."""

from __future__ import annotations

import pytest

from witgen import ir
from witgen.abi.analysis import TypeFacts
from witgen.abi.calls import lift_params, lift_results, lower_params, lower_results
from witgen.abi.codec import AbiContext
from witgen.abi.memory import BytesMemory
from witgen.abi.stream import (
    Alloc,
    Bitcast,
    CallWasm,
    GuestDeallocate,
    GuestDeallocateString,
    ListLift,
    ListLower,
    PostReturn,
    ReturnArea,
    StringLower,
    TypeStreams,
    VariantLift,
    function_stream,
    post_return_stream,
    render,
    walk,
)
from witgen.abi.values import VariantValue

from test_rules import Types, func


def test_a_variant_payload_is_cast_to_and_from_its_joined_flat_type() -> None:
    t = Types()
    num = t.variant(int="u32", real="f32", big="f64")
    streams = TypeStreams(t.layouts())
    lift = streams.lift_program(num)
    casts = [i.cast for i in walk(lift.body) if isinstance(i, Bitcast)]
    # joined payload: i64 (u32 -> i32 -> i64, f32 -> i64, f64 -> i64)
    assert casts == ["i64-to-i32", "i64-to-f32", "i64-to-f64"]
    lower = streams.lower_program(num)
    assert [i.cast for i in walk(lower.body) if isinstance(i, Bitcast)] == [
        "i32-to-i64",
        "f32-to-i64",
        "f64-to-i64",
    ]
    cx = AbiContext(t.layouts())
    for value in (VariantValue("int", 7), VariantValue("real", 1.5), VariantValue("big", -2.25)):
        assert cx.lift_flat(cx.lower_flat(value, num), num) == value


def test_flags_of_any_count_are_i32_words_flat_and_in_memory() -> None:
    t = Types()
    many = t.flags(70)
    cx = AbiContext(t.layouts(), BytesMemory())
    value = frozenset({"f0", "f33", "f69"})
    flat = cx.lower_flat(value, many)
    assert flat == [1, 2, 1 << 5]
    assert cx.lift_flat(flat, many) == value
    cx.store(value, many, 16)
    assert cx.load(many, 16) == value


def test_lists_of_numbers_are_marked_canonical() -> None:
    t = Types()
    bytes_list, recs = t.list("u8"), t.list(t.record(a="u8"))
    streams = TypeStreams(t.layouts())
    (lower,) = [i for i in walk(streams.lower_program(bytes_list).body) if isinstance(i, ListLower)]
    assert lower.canonical and lower.size == 1
    (lift,) = [i for i in walk(streams.lift_program(recs).body) if isinstance(i, ListLift)]
    assert not lift.canonical


def test_roles_decide_allocation() -> None:
    t = Types()
    wide = t.record(**{f"f{i}": "u64" for i in range(17)})  # 17 flat params: through memory
    text = t.list("string")
    f = func([wide, "string"], text)
    layouts = t.layouts()

    host_call = function_stream(layouts, f, "host-call")
    kinds = [type(i) for i in host_call.body]
    assert Alloc in kinds and PostReturn in kinds  # param area in guest memory, then free
    assert all(i.realloc for i in walk(host_call.body) if isinstance(i, StringLower))

    guest_import = function_stream(
        layouts, func([wide, "string"], text, "freestanding"), "guest-import"
    )
    areas = [i for i in guest_import.body if isinstance(i, ReturnArea)]
    assert len(areas) == 2  # its own parameter area and the retptr
    assert not any(i.realloc for i in walk(guest_import.body) if isinstance(i, StringLower))

    guest_export = function_stream(layouts, f, "guest-export")
    assert any(isinstance(i, GuestDeallocate) for i in guest_export.body)
    post = post_return_stream(layouts, f)
    assert post is not None
    assert any(isinstance(i, GuestDeallocateString) for i in walk(post.body))
    assert "guest-deallocate-list" in render(post)


def test_calls_run_the_function_stream_both_ways() -> None:
    t = Types()
    opt = t.option(t.variant(a="f32", b="s64"))
    f = func(["string", opt], t.tuple("string", opt))
    mem = BytesMemory()
    cx = AbiContext(t.layouts(), mem)
    args = ["héllo", None]
    for direction in ("export", "import"):
        core, retptr = lower_params(cx, f, direction, args)
        values, callee_retptr = lift_params(cx, f, direction, core)
        assert values == args
        result = ("x", None)
        results = lower_results(cx, f, direction, result, callee_retptr)
        assert lift_results(cx, f, direction, results, retptr) == result


def test_a_stream_renders_one_instruction_a_line() -> None:
    t = Types()
    f = func([t.option("f32")], "u32")
    text = render(function_stream(t.layouts(), f, "host-callback"))
    assert text.splitlines()[0] == "host-callback f:"
    assert "variant-lift [type=0 kind=option cases=(none, some)" in text  # no Resolve given
    assert any(
        isinstance(i, VariantLift) for i in function_stream(t.layouts(), f, "host-callback").body
    )
    with pytest.raises(ValueError, match="role"):
        function_stream(t.layouts(), f, "guest")


def test_one_analysis_of_what_types_contain() -> None:
    t = Types()
    res = t.resource()
    own = t.add(ir.Handle("own", res))
    borrow = t.add(ir.Handle("borrow", res))
    rec = t.record(a=t.list("u8"), b=t.option(borrow))
    owning, plain = t.tuple(own, "f32"), t.tuple("u8", "f32")
    facts = TypeFacts(ir.Resolve((), (), (), tuple(t.defs)))
    info = facts.of(rec)
    assert info.pointers and info.lists and info.borrows and not info.owns
    assert info.resources == frozenset({res})
    assert facts.of(owning).needs_cleanup
    assert not facts.of(plain).needs_cleanup
    assert facts.find(rec, lambda ty, kind: isinstance(kind, ir.Handle)) == borrow


def test_call_wasm_carries_the_core_signature() -> None:
    t = Types()
    f = func(["u32"], "u32")
    (call,) = [
        i for i in function_stream(t.layouts(), f, "host-call").body if isinstance(i, CallWasm)
    ]
    assert (call.signature.params, call.signature.results) == (("i32",), ("i32",))


def test_every_corpus_function_has_a_stream_in_every_role() -> None:
    from tests.corpus_worlds import corpus_worlds
    from witgen.abi.analysis import exported_resources, world_functions
    from witgen.abi.layout import Layouts
    from witgen.abi.stream import ROLE_SIDES, ROLES

    count = 0
    for _case, resolve, _world, wid in corpus_worlds():
        layouts = Layouts(resolve)
        local = exported_resources(resolve, wid)
        for item in world_functions(resolve, wid):
            if item.function.is_async:
                continue
            for role in ROLES:
                if ROLE_SIDES[role][0] != item.direction:
                    continue
                program = function_stream(
                    layouts,
                    item.function,
                    role,
                    local_resources=local if role.startswith("guest") else frozenset(),
                )
                assert render(program, resolve).count("\n") >= 2
                count += 1
    assert count > 200


def test_witgen_abi_prints_the_streams(capsys: pytest.CaptureFixture[str]) -> None:
    from witgen import cli

    args = ["abi", "--world", "processor-plugin", "--stream", "--role", "host-call"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "host-call dataflare:core/processor@1.0.0#process-batch:" in out
    assert "guest-export" not in out  # only the roles asked for
    assert "post-return [name=dataflare:core/processor@1.0.0#process-batch]" in out
