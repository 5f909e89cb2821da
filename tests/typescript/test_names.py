"""Spelling of WIT names and docs in TypeScript (jco conventions)."""

from __future__ import annotations

import pytest

from witgen.backends.typescript import names


@pytest.mark.parametrize(
    ("kebab", "lower", "upper"),
    [
        ("get-int", "getInt", "GetInt"),
        ("data-record", "dataRecord", "DataRecord"),
        ("HTTP-client", "httpClient", "HttpClient"),
        ("x", "x", "X"),
        ("%record", "record", "Record"),
        ("a1-b2", "a1B2", "A1B2"),
    ],
)
def test_camel_cases(kebab: str, lower: str, upper: str) -> None:
    assert names.lower_camel(kebab) == lower
    assert names.upper_camel(kebab) == upper


def test_reserved_words_are_escaped_only_where_they_bind() -> None:
    assert names.binding("delete") == "delete_"
    assert names.binding("new") == "new_"
    assert names.binding("await") == "await_"
    assert names.binding("record") == "record"
    assert names.member("delete") == "delete"  # property names may be reserved words


def test_type_names_do_not_shadow_globals_the_sdk_uses() -> None:
    assert names.type_name("result") == "Result_"
    assert names.type_name("uint8-array") == "Uint8Array_"
    assert names.type_name("data-record") == "DataRecord"


def test_tsdoc_escapes_comment_end_and_adds_tags() -> None:
    assert names.tsdoc(None) == []
    assert names.tsdoc("Ends */ here.\n\nSecond.", "  ", ("@throws X",)) == [
        "  /**",
        "   * Ends *\\/ here.",
        "   *",
        "   * Second.",
        "   *",
        "   * @throws X",
        "   */",
    ]


def test_module_file_stem() -> None:
    assert names.module_file_stem("dataflare:core/logging@1.0.0") == "dataflare-core-logging"
    assert names.module_file_stem("a:b/c") == "a-b-c"
