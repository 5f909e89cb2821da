"""Tests of the Rust guest SDK backend (generation, compilation, behaviour under wasmtime)."""
