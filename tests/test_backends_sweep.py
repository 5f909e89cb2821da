"""Every backend meets every valid corpus package: it generates code or refuses by name.

"Nothing is silently dropped": for each world of each valid WIT package in the front-end corpus,
each backend either returns files or raises a located `WitgenError`; any other exception (a
crash in a backend) fails. Compiling the output is each backend's own suite's job (tests/rust,
tests/go, tests/typescript, tests/python_host); this sweep is about robustness and coverage.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from witgen import backends, frontend
from witgen.diagnostics import WitgenError

CORPUS = Path(__file__).resolve().parent / "frontend" / "corpus" / "valid"
ENTRIES = sorted(p for p in CORPUS.iterdir() if p.suffix == ".wit" or p.is_dir())
LANGS = sorted(backends.available())


@pytest.mark.parametrize("lang", LANGS)
def test_each_backend_generates_or_refuses_every_corpus_world(lang: str) -> None:
    module = backends.available()[lang]
    generated = refused = 0
    crashes: list[str] = []
    for entry in ENTRIES:
        resolve = frontend.load(entry, all_features=True)
        main = resolve.main_package
        assert main is not None
        for world in sorted(resolve.packages[main].worlds.values()):
            label = f"{entry.name}:{resolve.worlds[world].name}"
            try:
                files = module.generate(
                    resolve, [world], backends.GenerateOptions(source=str(entry))
                )
            except WitgenError as err:
                refused += 1
                assert str(err).strip(), f"{label}: empty refusal message"
            except Exception as err:  # noqa: BLE001 - any other exception is the bug we report
                crashes.append(f"{label}: {type(err).__name__}: {err}")
            else:
                generated += 1
                assert files and all(isinstance(t, str) for t in files.values()), label
    assert not crashes, "backend crashed instead of refusing:\n" + "\n".join(crashes)
    # The corpus is mostly features every backend supports: most worlds must generate.
    assert generated > refused, f"{lang}: generated {generated}, refused {refused}"
    print(f"{lang}: generated {generated} worlds, refused {refused}")


# The backends that map accessors (`x: get() -> T`, `x: set(v: T)`): every corpus world with them
# generates (the async one aside, which is about async functions).
ACCESSOR_BACKENDS = ["go", "python", "rust"]
ACCESSOR_ENTRIES = [p for p in ENTRIES if p.name.startswith("accessors_")]


@pytest.mark.parametrize("lang", [lang for lang in ACCESSOR_BACKENDS if lang in LANGS])
def test_accessor_worlds_generate(lang: str) -> None:
    module = backends.available()[lang]
    assert len(ACCESSOR_ENTRIES) == 3
    for entry in ACCESSOR_ENTRIES:
        resolve = frontend.load(entry, all_features=True)
        main = resolve.main_package
        assert main is not None
        for world in sorted(resolve.packages[main].worlds.values()):
            files = module.generate(resolve, [world], backends.GenerateOptions(source=str(entry)))
            assert files, f"{entry.name}:{resolve.worlds[world].name}"
