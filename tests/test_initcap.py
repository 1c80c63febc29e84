"""DuckDB's initcap macro (engines/duckdb.py): PostgreSQL's re-casing, word by word, with
one regular expression per use (each Unicode-class pattern costs planning time)."""

from __future__ import annotations

import duckdb
import pytest

from cartwheel.engines.duckdb import INITCAP_MACRO

# The macro's earlier form, two regular expressions: a value without any character that
# is not a letter or digit is one word (first letter upper, the rest lower); any other
# value is split into words and separators, lower-cased, each word's first letter upper.
TWO_PATTERNS = r"""
create or replace temp macro initcap_two_patterns(value) as case
    when regexp_matches(value, '[^\pL\pN]') then array_to_string(list_transform(
        regexp_extract_all(lower(value), '[\pL\pN]+|[^\pL\pN]+'),
        lambda word: upper(word[1]) || word[2:]), '')
    else upper(value[1]) || lower(value[2:])
end
"""

RECASED = [
    ("o'donnell", "O'Donnell"),
    ("MARY-JANE", "Mary-Jane"),
    ("JOSÉ MARÍA", "José María"),
    ("van der berg", "Van Der Berg"),
    ("macdonald", "Macdonald"),
    ("abc1def", "Abc1def"),  # a digit is part of the word
    ("İLKER", "İlker"),  # one word: its first letter is upper-cased as written
    ("İLKER ŞEN", "Ilker Şen"),  # words: lower-cased first, then the first letter upper
    ("张伟", "张伟"),
    ("---", "---"),
    (" ", " "),
    ("", ""),
    (None, None),
]


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(INITCAP_MACRO)
    con.execute(TWO_PATTERNS)
    return con


def test_names_are_recased_word_by_word(con: duckdb.DuckDBPyConnection) -> None:
    for value, expected in RECASED:
        assert con.execute("select initcap(?)", [value]).fetchall() == [(expected,)], value


def test_same_result_as_the_two_pattern_form_around_every_basic_plane_character(
    con: duckdb.DuckDBPyConnection,
) -> None:
    con.execute(
        "create table characters as select chr(cast(i as integer)) as c from range(1, 65536) "
        "as r(i) where i < 55296 or i > 57343"  # no surrogate halves
    )
    for shape in ("c", "c || 'ab'", "c || 'AB'", "'ab' || c || 'CD'", "c || ' x'", "'x-' || c"):
        differing = con.execute(
            f"select count(*) from (select {shape} as v from characters) "
            "where initcap(v) is distinct from initcap_two_patterns(v)"
        ).fetchall()[0][0]
        assert differing == 0, shape


def test_a_value_of_one_word_keeps_its_own_first_letter(con: duckdb.DuckDBPyConnection) -> None:
    # Negative check: splitting every value (no short path) lower-cases `İ` to `i` first.
    con.execute(
        "create or replace temp macro initcap_always_split(value) as array_to_string("
        r"list_transform(regexp_extract_all(lower(value), '[\pL\pN]+|[^\pL\pN]+'), "
        "lambda word: upper(word[1]) || word[2:]), '')"
    )
    assert con.execute("select initcap_always_split('İLKER')").fetchall() == [("Ilker",)]
    assert con.execute("select initcap('İLKER')").fetchall() == [("İlker",)]
