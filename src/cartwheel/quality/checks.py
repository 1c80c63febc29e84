"""Table-level quality checks (checks.yaml): run them, keep their results with history in
`ops.quality_results` (one row per check per run), and score the batch 0-100."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from cartwheel.engines import Engine
from cartwheel.sqlfiles import table_ddl
from cartwheel.yamlfiles import load_built_in

SEVERITY_WEIGHTS = {"critical": 4, "high": 3, "medium": 2, "low": 1}
DIMENSIONS = (
    "completeness",
    "uniqueness",
    "validity",
    "consistency",
    "referential_integrity",
    "accuracy",
)


@dataclass(frozen=True)
class QualityCheck:
    id: str
    dimension: str
    severity: str
    entity: str
    description: str
    warn: float
    error: float
    sql: str
    # Fewer failed rows than this never fail the check (a warning at most): one orphan in
    # a ten-row daily batch is 10%, yet no reason to stop a daily load.
    min_failed: int = 1

    @property
    def weight(self) -> int:
        return SEVERITY_WEIGHTS[self.severity]


@dataclass
class CheckResult:
    check: QualityCheck
    rows_failed: int
    rows_checked: int

    @property
    def rate(self) -> float:
        """Failed rows as a percentage of checked rows (0 when nothing was checked)."""
        return 100.0 * self.rows_failed / self.rows_checked if self.rows_checked else 0.0

    @property
    def status(self) -> str:
        if self.rate <= self.check.warn:
            return "passed"
        if self.rate <= self.check.error or self.rows_failed < self.check.min_failed:
            return "warning"
        return "failed"

    @property
    def points(self) -> float:
        """Points kept out of the check's weight: all at 0%, none at the error threshold."""
        error = self.check.error or 1e-9
        return self.check.weight * (1.0 - min(1.0, self.rate / error))


@cache
def _check_entries() -> tuple[dict, ...]:
    """checks.yaml parsed once per process (a run loads it once per batch)."""
    text = (resources.files("cartwheel") / "quality" / "checks.yaml").read_text()
    return tuple(load_built_in(text))


def load_checks(thresholds: dict[str, dict[str, float]] | None = None) -> list[QualityCheck]:
    """The checks of checks.yaml, with thresholds overridden per check id."""
    checks = []
    for entry in _check_entries():
        override = (thresholds or {}).get(entry["id"], {})
        entry = {
            **entry,
            **{k: float(v) for k, v in override.items() if k in ("warn", "error")},
            **{k: int(v) for k, v in override.items() if k == "min_failed"},
        }
        if entry["dimension"] not in DIMENSIONS or entry["severity"] not in SEVERITY_WEIGHTS:
            raise ValueError(f"check {entry['id']}: unknown dimension or severity")
        checks.append(QualityCheck(**entry))
    return checks


def run_checks(engine: Engine, checks: list[QualityCheck]) -> list[CheckResult]:
    """Every check's (rows_failed, rows_checked), all checks in one statement (a query
    per check paid DuckDB's per-statement overhead 22 times per batch)."""
    if not checks:
        return []
    parts = [
        f"select {number} as check_number, failed, checked "
        f"from ({check.sql.strip().rstrip(';')}\n) as c (failed, checked)"
        for number, check in enumerate(checks)
    ]
    counts = {
        int(number): (failed, checked)
        for number, failed, checked in engine.query(" union all ".join(parts))
    }
    results = []
    for number, check in enumerate(checks):
        failed, checked = counts[number]
        results.append(CheckResult(check, int(failed or 0), int(checked or 0)))
    return results


def quality_score(results: list[CheckResult]) -> float:
    """0-100: the weighted share of points the checks kept."""
    total = sum(r.check.weight for r in results)
    return round(100.0 * sum(r.points for r in results) / total, 2) if total else 100.0


def largest_loss(balance: list[dict], min_rows: int = 1) -> tuple[str | None, float]:
    """The entity that lost the largest share of its rows to quarantine in this batch,
    and that share (0-1); duplicates removed are not lost. Fewer than `min_rows` lost
    rows are no loss (one held order of a one-order daily batch is no catastrophe)."""
    shares = [
        (row["rows_quarantined"] / row["rows_in"], row["entity"])
        for row in balance
        if row["rows_in"] and row["rows_quarantined"] >= min_rows
    ]
    if not shares:
        return None, 0.0
    share, entity = max(shares)
    return entity, share


def overall_score(check_score: float, lost_share: float) -> float:
    """The checks' score scaled by the share of rows kept: losing 90% of an entity's
    rows leaves at most 10 points, whatever the checks say (worked examples in
    docs/quality.md)."""
    return round(check_score * (1.0 - lost_share), 2)


def quality_grade(score: float) -> str:
    for grade, floor in (("A", 90), ("B", 80), ("C", 70), ("D", 60)):
        if score >= floor:
            return grade
    return "F"


def record_results(
    engine: Engine, run_id: str, results: list[CheckResult], tables_ready: bool = False
) -> datetime:
    """Append this run's results to ops.quality_results (history is never overwritten).
    `tables_ready`: an earlier batch of this run created the table."""
    if not tables_ready:
        engine.execute(table_ddl("ops/ddl.sql", "ops.quality_results"))
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    rows = []
    for r in results:
        c = r.check
        rows.append(
            [
                run_id,
                checked_at,
                c.id,
                c.dimension,
                c.severity,
                c.entity,
                c.description,
                r.rows_checked,
                r.rows_failed,
                round(r.rate, 4),
                c.warn,
                c.error,
                r.status,
                round(r.points, 4),
                c.weight,
            ]
        )
    if rows:  # one statement for all checks (a statement per check cost ~1 ms each)
        placeholders = ", ".join(["(" + ", ".join(["?"] * len(rows[0])) + ")"] * len(rows))
        engine.execute(
            f"insert into ops.quality_results values {placeholders}",
            [value for row in rows for value in row],
        )
    return checked_at
