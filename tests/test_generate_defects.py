"""Defect injection: every ledger entry is really in the files, nothing else is touched,
and repairable defects repair to exactly the clean row."""

from __future__ import annotations

import csv
import re
from collections import Counter
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cartwheel.contract import ENTITIES, PRIMARY_KEYS, core_columns
from cartwheel.generate import Profile, generate, generate_batches
from cartwheel.generate.defects import KINDS, LEDGER_COLUMNS, REPAIRABLE

SHORT = Profile.from_mapping({"end": "2024-01-10"})
ALL_KINDS = {kind for kinds in KINDS.values() for kind in kinds}


def parse(line: str) -> list[str]:
    return next(csv.reader([line]))


def line_total(fields: dict[str, str]) -> str:
    value = (
        int(fields["quantity"])
        * Decimal(fields["unit_price"])
        * (100 - int(fields["discount_percentage"]))
        / 100
    )
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def unparseable(value: str) -> bool:
    for parser in (date.fromisoformat, Decimal, int):
        try:
            parser(value)
            return False
        except (ValueError, ArithmeticError):
            continue
    return True


def repaired(kind: str, column: str, fields: dict[str, str], clean: dict[str, str]) -> str:
    """What the pipeline's cleansing makes of a repairable value."""
    value = fields[column]
    if kind == "padded_text":
        return value.strip()
    if kind == "phone_punctuation":
        return re.sub(r"\D", "", value)
    if kind == "miscased_text":
        if column == "email":
            return value.lower()
        if column in ("first_name", "last_name"):
            return value.title()
        return clean[column] if value.lower() == clean[column].lower() else value  # canonical
    if kind == "wrong_line_total":
        return line_total(fields)
    if kind == "wrong_total_amount":
        return clean[column]  # Σ of the transaction's (clean) line totals
    raise AssertionError(kind)


def present(
    kind: str, column: str, fields: dict[str, str], clean: dict[str, str], counts: dict
) -> bool:
    """Whether the written row really carries the defect the ledger names."""
    value = fields.get(column, "")
    checks = {
        "missing_value": lambda: value == "",
        "malformed_email": lambda: "@" not in value,
        "phone_punctuation": lambda: re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", value) is not None,
        "malformed_phone": lambda: re.fullmatch(r"\d{10}", value) is None,
        "miscased_text": lambda: value != clean[column] and value.lower() == clean[column].lower(),
        "padded_text": lambda: value != value.strip() and value.strip() == clean[column],
        "future_date": lambda: value > "2100",
        "unparseable_value": lambda: unparseable(value),
        "cost_above_price": lambda: Decimal(value) > Decimal(fields["price"]),
        "orphan_customer_id": lambda: int(value[4:]) > counts["customers"],
        "orphan_product_id": lambda: int(value[4:]) > counts["products"],
        "wrong_line_total": lambda: value != line_total(fields),
        "wrong_total_amount": lambda: value != clean[column],
        "non_positive_quantity": lambda: int(value) <= 0,
        "discount_out_of_range": lambda: not 0 <= int(value) <= 100,
    }
    return checks[kind]()


def read_ledger(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def check_folder(defective: Path, clean: Path, counts: dict) -> Counter:
    """Every ledger row is in the files; every other row equals the clean row."""
    with open(defective / "defect_ledger.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == LEDGER_COLUMNS
        ledger = list(reader)
    kinds: Counter = Counter()
    for entity in ENTITIES:
        name = f"{entity}.csv"
        header = list(core_columns(entity))
        lines = (defective / name).read_text().split("\n")
        assert lines[0] == ",".join(header) and lines[-1] == ""
        clean_rows = {
            row[0]: dict(zip(header, row, strict=True))
            for row in csv.reader((clean / name).read_text().splitlines()[1:])
        }
        entries = {int(e["line"]): e for e in ledger if e["file"] == name}
        assert len(entries) == sum(e["file"] == name for e in ledger), "one defect per line"
        for number, text in enumerate(lines[1:-1], start=2):
            entry = entries.get(number)
            if entry is None:
                row = dict(zip(header, parse(text), strict=True))
                assert row == clean_rows[row[PRIMARY_KEYS[entity]]], (name, number)
                continue
            kind, column = entry["kind"], entry["column"]
            kinds[kind] += 1
            assert entry["entity"] == entity and kind in KINDS[entity]
            assert entry["repairable"] == str(kind in REPAIRABLE).lower()
            assert text.startswith(entry["key"] + ","), (name, number, entry)
            if kind == "broken_csv_line":
                assert len(parse(text)) != len(header), (name, number)
                continue
            if kind == "duplicate_row":
                assert text == lines[number - 2], (name, number)
                continue
            fields = dict(zip(header, parse(text), strict=True))
            clean_row = clean_rows[entry["key"]]
            assert column in KINDS[entity][kind]
            assert present(kind, column, fields, clean_row, counts), (name, number, entry, text)
            others = {c: v for c, v in fields.items() if c != column}
            assert others == {c: v for c, v in clean_row.items() if c != column}, (name, number)
            if kind in REPAIRABLE:
                assert repaired(kind, column, fields, clean_row) == clean_row[column], entry
    return kinds


def test_one_shot_ledger_matches_the_files(tmp_path: Path) -> None:
    clean = generate(tmp_path / "clean")
    result = generate(tmp_path / "bad", defect_rate=0.03)
    kinds = check_folder(tmp_path / "bad", tmp_path / "clean", clean.record_counts)
    assert kinds.total() == result.defects > 500
    assert set(kinds) == ALL_KINDS  # every kind of defect occurs at this size
    # Duplicates add rows; nothing else changes the counts.
    assert result.record_counts["transactions"] == 10000 + sum(
        1
        for row in read_ledger(tmp_path / "bad" / "defect_ledger.csv")
        if row["kind"] == "duplicate_row" and row["entity"] == "transactions"
    )


@pytest.mark.parametrize("shift", ["line", "kind"])
def test_a_wrong_ledger_is_caught(tmp_path: Path, shift: str) -> None:
    """The checker above fails when the ledger does not describe the files."""
    clean = generate(tmp_path / "clean", profile=SHORT)
    generate(tmp_path / "bad", profile=SHORT, defect_rate=0.05)
    path = tmp_path / "bad" / "defect_ledger.csv"
    rows = read_ledger(path)
    victim = next(r for r in rows if r["kind"] == "padded_text")
    if shift == "line":
        victim["line"] = str(int(victim["line"]) + 1)
    else:
        victim["kind"] = "future_date"
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, LEDGER_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with pytest.raises(AssertionError):
        check_folder(tmp_path / "bad", tmp_path / "clean", clean.record_counts)


def test_batch_ledgers_match_their_files(tmp_path: Path) -> None:
    clean = generate_batches(tmp_path / "clean", profile=SHORT)
    bad = generate_batches(tmp_path / "bad", profile=SHORT, defect_rate=0.05)
    total: Counter = Counter()
    for folder in bad.batches:
        counts = {"customers": 1000, "products": 500}
        total += check_folder(folder, tmp_path / "clean" / folder.name, counts)
    assert total.total() == bad.defects > 50
    assert clean.defects == 0
    assert not list((tmp_path / "clean").glob("*/defect_ledger.csv"))
    # Defects are deterministic too.
    again = generate_batches(tmp_path / "again", profile=SHORT, defect_rate=0.05)
    for folder in again.batches:
        for path in folder.iterdir():
            assert path.read_bytes() == (tmp_path / "bad" / folder.name / path.name).read_bytes()


def test_parquet_defects_have_no_broken_lines(tmp_path: Path) -> None:
    result = generate(tmp_path, defect_rate=0.02, file_format="parquet")
    ledger = read_ledger(tmp_path / "defect_ledger.csv")
    assert len(ledger) == result.defects > 100
    assert "broken_csv_line" not in {e["kind"] for e in ledger}
    tables = {e: pq.read_table(tmp_path / f"{e}.parquet").to_pylist() for e in ENTITIES}
    for entry in ledger:
        entity = entry["entity"]
        row = tables[entity][int(entry["line"]) - 2]  # line 1 would be a header
        assert row[PRIMARY_KEYS[entity]] == entry["key"]
        if entry["kind"] == "missing_value":
            assert row[entry["column"]] is None
        if entry["kind"] == "duplicate_row":
            assert row == tables[entity][int(entry["line"]) - 3]


def test_no_defects_by_default(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    result = generate(tmp_path / "b", defect_rate=0)
    assert result.defects == 0
    assert not (tmp_path / "a" / "defect_ledger.csv").exists()
    assert not (tmp_path / "b" / "defect_ledger.csv").exists()
    for entity in ENTITIES:
        a = (tmp_path / "a" / f"{entity}.csv").read_bytes()
        assert a == (tmp_path / "b" / f"{entity}.csv").read_bytes()


@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_bad_defect_rate_is_refused(tmp_path: Path, rate: float) -> None:
    with pytest.raises(ValueError, match="defect rate"):
        generate(tmp_path, defect_rate=rate)
