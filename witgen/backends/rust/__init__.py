"""The Rust guest SDK backend: `witgen generate --lang rust`.

`generator` builds the model of each world and renders the crate, `emit` spells the
canonical-ABI instruction stream (`witgen.abi.stream`) of each function in Rust, `names` maps
WIT names and types to Rust, `layout` lays the text out as rustfmt does and `stateful` adds the
stateful plugin shape.
"""

from witgen.backends.rust.generator import LANGUAGE, generate

__all__ = ["LANGUAGE", "generate"]
