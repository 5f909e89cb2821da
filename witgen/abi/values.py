"""The Python value model for WIT values, and the errors the canonical-ABI layer raises.

How each WIT type is represented in Python (what `lower*` accepts and `lift*`/`load` return):

| WIT type                         | Python value                                                   |
| -------------------------------- | -------------------------------------------------------------- |
| `bool`                           | `bool`                                                         |
| `u8`..`u64`, `s8`..`s64`         | `int` (range-checked when lowering; `bool` is refused)         |
| `f32`, `f64`                     | `float` (f32 rounds to nearest; every NaN becomes the canonical NaN) |
| `char`                           | a one-character `str` (no surrogates)                          |
| `string`                         | `str` (no lone surrogates)                                     |
| `list<u8>`                       | lifted as `bytes`; lowered from `bytes`, `bytearray`, `memoryview` or a list of ints |
| `list<T>`, `list<T, N>`          | `list` (any sequence when lowering; fixed-length lists checked) |
| `map<K, V>`                      | `dict` (lowered in iteration order, like `list<tuple<K, V>>`)   |
| record                           | `dict` from WIT field name (kebab-case) to value               |
| tuple                            | `tuple`                                                        |
| variant                          | `VariantValue(case, payload)` (payload `None` for no payload)   |
| enum                             | the case name, a `str`                                         |
| flags                            | `frozenset[str]` of the set flags (any iterable of names when lowering) |
| `option<T>`                      | `None` or `Some(value)` (so `option<option<T>>` is unambiguous) |
| `result<T, E>`                   | `Ok(value)` or `Err(value)` (`value` is `None` without payload) |
| `own<R>`, `borrow<R>`            | `int`, the handle index                                        |
| `future`, `stream`, `error-context` | `int`, the handle index                                     |

Flat (core wasm) values are Python ints for `i32`/`i64` (lowering produces the unsigned bit
pattern; lifting accepts signed or unsigned) and floats for `f32`/`f64` (lifting also accepts
an int there, taken as the float's bit pattern, which is how memory dumps carry them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union


class AbiError(Exception):
    """Base of every error of the canonical-ABI layer."""


class AbiTrap(AbiError):
    """A trap condition of CanonicalABI.md: the core side handed over something invalid
    (bad discriminant, invalid char, misaligned or out-of-bounds pointer, bad UTF-8...)."""


class AbiValueError(AbiError, ValueError):
    """A Python value that does not fit its WIT type (raised when lowering)."""


@dataclass(frozen=True, slots=True)
class Some:
    """The `some` case of an option."""

    value: Any


@dataclass(frozen=True, slots=True)
class Ok:
    """The `ok` case of a result (`value` is None when the case has no payload)."""

    value: Any = None


@dataclass(frozen=True, slots=True)
class Err:
    """The `error` case of a result (`value` is None when the case has no payload)."""

    value: Any = None


@dataclass(frozen=True, slots=True)
class VariantValue:
    """A value of a WIT variant: the case name and its payload (None without one)."""

    case: str
    payload: Any = None


OptionValue = Union[None, Some]
ResultValue = Union[Ok, Err]
FlatValue = Union[int, float]
