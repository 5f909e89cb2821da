"""The TypeScript guest SDK backend (`witgen generate --lang typescript`, for componentize-js).

`generator` decides what to generate and the type strings, `layout` prints them the way prettier
does, `names` spells TypeScript names, `stateful` adds the class-per-instance shape
(`<iface>FromClass`); the templates under `sdk_templates/typescript/` lay out files.
"""

from witgen.backends.typescript.generator import LANGUAGE, generate

__all__ = ["LANGUAGE", "generate"]
