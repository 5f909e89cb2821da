"""The plugin author's loop: `witgen new` (scaffold), `witgen build`, `witgen test` (fixtures).

- `project`: the `witgen.toml` project file, the vendored WIT and its generated SDK;
- `scaffold`: what `witgen new` writes, per language and kind;
- `builder`: build, validate and describe a project's component;
- `fixtures`: the TOML fixture format, parsed with file:line errors;
- `runner`: runs fixture cases against a component through the generated Python host;
- `pytest_plugin`: the `load_test_plugin` fixture for tests written in Python.
"""
