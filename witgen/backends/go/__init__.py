"""The Go guest SDK backend (`witgen generate --lang go`).

`generator` decides what to generate and how things are named, `abi` writes the lift/lower
statements, `names` spells Go names, `stateful` adds the stateful `ExportNew` shape; the templates
under `sdk_templates/go/` lay it out.
"""

from witgen.backends.go.generator import LANGUAGE, GoBackendError, generate

__all__ = ["LANGUAGE", "GoBackendError", "generate"]
