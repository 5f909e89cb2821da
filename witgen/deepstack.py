"""Run a command on a thread with a large stack, so deeply nested WIT never ends in a crash.

The front end, the ABI layer and the backends walk types recursively. The front end refuses
types nested deeper than `witgen.frontend.limits.MAX_TYPE_DEPTH`; up to that depth every stage
needs more Python frames than the default recursion limit (1000) allows, and more C stack than
the main thread may have. `call_with_deep_stack` runs a function on a fresh thread with
`STACK_BYTES` of stack and a recursion limit the stack can hold, and hands back its result or
re-raises its exception in the caller's thread. A `RecursionError` that still happens becomes a
`WitError` (exit 1) instead of a traceback.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, TypeVar

from witgen.diagnostics import WitError

T = TypeVar("T")

STACK_BYTES = 512 * 1024 * 1024  # reserved address space; only the pages used are committed
RECURSION_LIMIT = 20_000  # at most ~26 KiB of C stack per Python frame


def call_with_deep_stack(fn: Callable[[], T]) -> T:
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # handed to the caller's thread below
            error.append(exc)

    old_limit = sys.getrecursionlimit()
    try:
        old_size = threading.stack_size(STACK_BYTES)
    except (ValueError, RuntimeError):  # a platform that cannot set it: run here instead
        return _plain(fn)
    try:
        worker = threading.Thread(target=target, name="witgen-command", daemon=True)
        sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
        try:
            worker.start()
        except RuntimeError:  # no memory for the stack
            sys.setrecursionlimit(old_limit)
            return _plain(fn)
    finally:
        threading.stack_size(old_size)
    try:
        while worker.is_alive():
            worker.join(0.2)  # a timed join lets Ctrl-C reach this (the main) thread
    finally:
        sys.setrecursionlimit(old_limit)
    if error:
        exc = error[0]
        if isinstance(exc, RecursionError):
            raise WitError("input nested too deeply to process") from None
        raise exc
    return result[0]


def _plain(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except RecursionError:
        raise WitError("input nested too deeply to process") from None
