"""Generate the four raw entities of the contract.

Two layouts over one history (see world.py):
- `generate(out_dir, ...)`: the classic one-shot folder — customers and products as they
  are at the end of the history, every transaction and item — plus
  generation_metadata.json.
- `generate_batches(out_dir, first_day, days, ...)`: one folder per day,
  OUT/YYYY-MM-DD/{customers,products,transactions,transaction_items}.{csv,parquet}, each
  holding that day's new and changed customers and products and its orders. The first
  day of the history also holds everyone registered before it and the initial catalogue.

Work is streamed in chunks of days (or of ids), so memory stays bounded at any scale.
With `defect_rate > 0` defects are injected into the written files and recorded in a
`defect_ledger.csv` next to them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from cartwheel.contract import ENTITIES, core_columns
from cartwheel.generate import draws
from cartwheel.generate.defects import LEDGER_COLUMNS, Context, inject
from cartwheel.generate.profile import Profile
from cartwheel.generate.world import DAY_DEFECTS, World
from cartwheel.generate.writer import FileSink, arrow_orders, format_sql, remove_scratch
from cartwheel.parquet import pyarrow_parquet
from cartwheel.sqltext import string_literal

DEFAULT_START = Profile.start
DEFAULT_END = Profile.end
CHUNK_ITEMS = 1_000_000  # one-shot layout: write orders in chunks of about this many items
CHUNK_CUSTOMERS = 1_000_000
FORMATS = ("csv", "parquet")
# Parquet fast path: (dictionary-encoded columns, columns with min/max statistics).
PARQUET_ENCODING = {
    "transactions": (["transaction_date", "payment_method"], ["transaction_date"]),
    "transaction_items": (["product_id", "quantity", "discount_percentage"], []),
}


@dataclass
class GenerationResult:
    out_dir: Path
    record_counts: dict[str, int]
    date_range: dict[str, str]
    seconds: float
    files: dict[str, Path] = field(default_factory=dict)
    defects: int = 0
    batches: list[Path] = field(default_factory=list)


class _Writer:
    """Formats raw chunks, injects defects if asked, writes them, keeps the ledger."""

    def __init__(self, world: World, file_format: str, defect_rate: float) -> None:
        if file_format not in FORMATS:
            raise ValueError(f"unknown format {file_format!r}: use csv or parquet")
        if not 0 <= defect_rate <= 1:
            raise ValueError("defect rate must be between 0 and 1")
        self.world = world
        self.file_format = file_format
        self.defect_rate = defect_rate
        self.con = duckdb.connect()
        self.con.execute("set preserve_insertion_order = true")
        self.con.execute("set enable_progress_bar = false")
        self.ledger: dict[Path, list[pa.Table]] = {}  # per folder
        self.context = Context(world.n_customers, world.n_products, world.widths)

    def write(
        self,
        sink: FileSink,
        entity: str,
        raw: pa.Table,
        rng: np.random.Generator | None,
        tag: str,
    ) -> None:
        widths = self.world.widths
        self.con.register("raw_chunk", raw)
        if not self.defect_rate or rng is None:
            if sink.parquet and entity in ("transactions", "transaction_items"):
                sink.write_arrow(arrow_orders(entity, raw, widths), *PARQUET_ENCODING[entity])
                return
            sink.write(self.con, format_sql(entity, "raw_chunk", widths), raw.num_rows)
            return
        text = self.con.sql(format_sql(entity, "raw_chunk", widths, as_text=True)).to_arrow_table()
        injected = inject(
            text, entity, self.defect_rate, rng, self.context, self.file_format == "csv", tag
        )
        before = sink.rows
        self.con.register("defective_chunk", injected.table)
        sink.write(
            self.con, "select * from defective_chunk", injected.table.num_rows, injected.patches
        )
        ledger = injected.ledger
        if ledger.num_rows:
            line = pa.array(ledger["line"].to_numpy() + before + 1)  # + header line
            ledger = ledger.set_column(0, "line", line)
            self.ledger.setdefault(sink.path.parent, []).append(
                ledger.add_column(0, "file", pa.array([sink.path.name] * ledger.num_rows))
            )

    def write_days(self, entity: str, raw: pa.Table, counts: list[int], paths: list[Path]) -> None:
        """Clean files of consecutive days from one chunk: formatted once, then cut.

        A day's file has the same bytes as when that day is written alone (CSV lines do
        not depend on their neighbours; a Parquet file is written from the day's slice).
        """
        widths = self.world.widths
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        if self.file_format == "parquet":
            if entity in PARQUET_ENCODING:
                table = arrow_orders(entity, raw, widths)
                dictionary, statistics = PARQUET_ENCODING[entity]
            else:
                self.con.register("raw_chunk", raw)
                table = self.con.sql(format_sql(entity, "raw_chunk", widths)).to_arrow_table()
                dictionary, statistics = True, True
            write_table = pyarrow_parquet().write_table
            for path, lo, n in zip(paths, offsets[:-1], counts, strict=True):
                write_table(
                    table.slice(lo, n),
                    path,
                    use_dictionary=dictionary,
                    write_statistics=statistics,
                )
            return
        self.con.register("raw_chunk", raw)
        scratch = paths[0].parent / f".{entity}.csv.chunk"
        self.con.execute(
            f"copy ({format_sql(entity, 'raw_chunk', widths)}) to {string_literal(scratch)} "
            f"(format csv, header false)"
        ).fetchall()
        data = scratch.read_bytes()
        scratch.unlink()
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10) + 1
        ends = np.concatenate([[0], ends])[offsets]  # byte offset where each day starts
        header = (",".join(core_columns(entity)) + "\n").encode()
        for path, lo, hi in zip(paths, ends[:-1], ends[1:], strict=True):
            path.write_bytes(header + data[lo:hi])

    def flush_ledger(self, folder: Path) -> int:
        """Write defect_ledger.csv in `folder` (when defects are on); rows written."""
        if not self.defect_rate:
            return 0
        parts = self.ledger.pop(folder, [])
        ledger = (
            pa.concat_tables(parts)
            if parts
            else pa.table(
                {
                    c: pa.array([], pa.int64() if c == "line" else pa.string())
                    for c in LEDGER_COLUMNS
                }
            )
        )
        self.con.register("ledger", ledger.select(list(LEDGER_COLUMNS)))
        path = folder / "defect_ledger.csv"
        self.con.execute(
            f"copy (select * from ledger) to {string_literal(path)} (format csv, header true)"
        ).fetchall()
        return ledger.num_rows

    def close(self) -> None:
        self.con.close()


def _profile(profile: Profile | None, start: date | None, end: date | None) -> Profile:
    profile = profile or Profile()
    if start is not None:
        profile = replace(profile, start=start)
    if end is not None:
        profile = replace(profile, end=end)
    return profile.checked()


def _defect_rng(seed: int, day: date, entity: str, part: int = 0) -> np.random.Generator:
    return draws.day_rng(seed, day, DAY_DEFECTS + 10 * ENTITIES.index(entity) + part)


def _metadata(
    out_dir: Path,
    counts: dict[str, int],
    date_range: dict[str, str],
    began: float,
    extra: dict,
) -> float:
    seconds = time.perf_counter() - began
    metadata = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "record_counts": counts,
        "date_range": date_range,
        **extra,
        "execution_time_seconds": round(seconds, 3),
    }
    (out_dir / "generation_metadata.json").write_text(
        json.dumps(metadata, indent=2, default=str) + "\n"
    )
    return seconds


def _day_chunks(world: World, days: range, max_days: int = 100_000) -> Iterator[list[int]]:
    """Consecutive days grouped so each group holds about CHUNK_ITEMS items."""
    group: list[int] = []
    items = 0
    for k in days:
        group.append(k)
        items += world.items_on(k)
        if items >= CHUNK_ITEMS or len(group) >= max_days:
            yield group
            group, items = [], 0
    if group:
        yield group


def generate(
    out_dir: Path,
    scale: float = 1.0,
    seed: int = 42,
    start: date | None = None,
    end: date | None = None,
    file_format: str = "csv",
    defect_rate: float = 0.0,
    profile: Profile | None = None,
) -> GenerationResult:
    """The one-shot layout: the whole history in one folder (the contract's files)."""
    began = time.perf_counter()
    profile = _profile(profile, start, end)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_scratch(out_dir)
    world = World(profile, scale, seed)
    writer = _Writer(world, file_format, defect_rate)
    last = world.n_days - 1
    sinks = {e: FileSink(out_dir / f"{e}.{file_format}", file_format, False) for e in ENTITIES}
    try:
        with ThreadPoolExecutor(1) as pool:
            chunks = list(_day_chunks(world, range(world.n_days)))
            # Orders are generated in a worker thread while the main thread writes.
            pending = pool.submit(world.orders, chunks[0])
            for part, lo in enumerate(range(0, world.n_customers, CHUNK_CUSTOMERS)):
                idx = np.arange(lo, min(lo + CHUNK_CUSTOMERS, world.n_customers), dtype=np.int64)
                rng = _defect_rng(seed, profile.end, "customers", part) if defect_rate else None
                rows = world.customer_rows(idx, last)
                writer.write(sinks["customers"], "customers", rows, rng, f"c{part}")
            rng = _defect_rng(seed, profile.end, "products") if defect_rate else None
            products = world.product_rows(np.arange(world.n_products, dtype=np.int64), last)
            writer.write(sinks["products"], "products", products, rng, "p")
            for n, group in enumerate(chunks):
                transactions, items = pending.result()
                if n + 1 < len(chunks):  # generate the next chunk while this one is written
                    pending = pool.submit(world.orders, chunks[n + 1])
                day = world.day_date(group[0])
                for entity, raw in (("transactions", transactions), ("transaction_items", items)):
                    rng = _defect_rng(seed, day, entity) if defect_rate else None
                    writer.write(sinks[entity], entity, raw, rng, f"d{group[0]}")
        for sink in sinks.values():
            sink.close()
        defects = writer.flush_ledger(out_dir)
    finally:
        writer.close()

    counts = {e: sinks[e].rows for e in ENTITIES}
    date_range = {"start": profile.start.isoformat(), "end": profile.end.isoformat()}
    seconds = _metadata(
        out_dir,
        counts,
        date_range,
        began,
        {
            "data_quality": {
                "defect_rate": defect_rate,
                "defects_injected": defects,
                "defect_ledger": "defect_ledger.csv" if defect_rate else None,
            },
            "layout": "one-shot",
            "scale": scale,
            "seed": seed,
            "format": file_format,
            "profile": asdict(profile),
        },
    )
    files = {e: sinks[e].path for e in ENTITIES}
    return GenerationResult(out_dir, counts, date_range, seconds, files, defects)


def generate_batches(
    out_dir: Path,
    first_day: date | None = None,
    days: int | None = None,
    scale: float = 1.0,
    seed: int = 42,
    file_format: str = "csv",
    defect_rate: float = 0.0,
    profile: Profile | None = None,
) -> GenerationResult:
    """Daily batches OUT/YYYY-MM-DD/ for `days` days from `first_day` (default: all)."""
    began = time.perf_counter()
    profile = _profile(profile, None, None)
    world = World(profile, scale, seed)
    k0 = world.day_offset(first_day or profile.start)
    count = world.n_days - k0 if days is None else days
    if count < 1:
        raise ValueError("--days must be at least 1")
    world.day_offset(world.day_date(k0 + count - 1))  # the last day must exist too
    out_dir.mkdir(parents=True, exist_ok=True)
    writer = _Writer(world, file_format, defect_rate)
    totals = dict.fromkeys(ENTITIES, 0)
    defects = 0
    folders: list[Path] = []

    def chunk_data(group: list[int]) -> dict[str, tuple[pa.Table, list[int]]]:
        """Raw tables of consecutive days, and how many rows of each belong to each day."""
        entities = [world.day_entities(k) for k in group]
        customers = np.concatenate([c for c, _ in entities])
        products = np.concatenate([p for _, p in entities])
        c_days = np.repeat(group, [len(c) for c, _ in entities])
        p_days = np.repeat(group, [len(p) for _, p in entities])
        transactions, items = world.orders(group)
        return {
            "customers": (world.customer_rows(customers, c_days), [len(c) for c, _ in entities]),
            "products": (world.product_rows(products, p_days), [len(p) for _, p in entities]),
            "transactions": (transactions, [world.transactions_on(k) for k in group]),
            "transaction_items": (items, [world.items_on(k) for k in group]),
        }

    try:
        with ThreadPoolExecutor(1) as pool:
            chunks = list(_day_chunks(world, range(k0, k0 + count), max_days=64))
            pending = pool.submit(chunk_data, chunks[0])
            for n, group in enumerate(chunks):
                data = pending.result()
                if n + 1 < len(chunks):  # build the next chunk while this one is written
                    pending = pool.submit(chunk_data, chunks[n + 1])
                group_folders = [out_dir / world.day_date(k).isoformat() for k in group]
                for folder in group_folders:
                    folder.mkdir(exist_ok=True)
                    remove_scratch(folder)
                    (folder / "defect_ledger.csv").unlink(missing_ok=True)
                for entity in ENTITIES:
                    table, counts = data[entity]
                    totals[entity] += table.num_rows
                    if not defect_rate:
                        paths = [f / f"{entity}.{file_format}" for f in group_folders]
                        writer.write_days(entity, table, counts, paths)
                        continue
                    offsets = np.concatenate([[0], np.cumsum(counts)])
                    for i, (k, folder) in enumerate(zip(group, group_folders, strict=True)):
                        sink = FileSink(folder / f"{entity}.{file_format}", file_format, True)
                        day_rows = table.slice(offsets[i], counts[i])
                        rng = _defect_rng(seed, world.day_date(k), entity)
                        writer.write(sink, entity, day_rows, rng, "b")
                        sink.close()
                        totals[entity] += sink.rows - counts[i]  # duplicates add rows
                if defect_rate:
                    defects += sum(writer.flush_ledger(folder) for folder in group_folders)
                folders.extend(group_folders)
    finally:
        writer.close()

    last_day = world.day_date(k0 + count - 1)
    date_range = {"start": world.day_date(k0).isoformat(), "end": last_day.isoformat()}
    seconds = _metadata(
        out_dir,
        totals,
        date_range,
        began,
        {
            "data_quality": {
                "defect_rate": defect_rate,
                "defects_injected": defects,
                "defect_ledger": "YYYY-MM-DD/defect_ledger.csv" if defect_rate else None,
            },
            "layout": "daily",
            "batches": [f.name for f in folders],
            "history": {"start": profile.start.isoformat(), "end": profile.end.isoformat()},
            "scale": scale,
            "seed": seed,
            "format": file_format,
            "profile": asdict(profile),
        },
    )
    return GenerationResult(out_dir, totals, date_range, seconds, {}, defects, folders)
