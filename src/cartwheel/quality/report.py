"""The quality step: validate, quarantine, check, score, gate — and its reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cartwheel.engines import Engine
from cartwheel.quality.checks import (
    CheckResult,
    load_checks,
    quality_grade,
    quality_score,
    record_results,
    run_checks,
)
from cartwheel.quality.conservation import (
    conservation,
    equation,
    record_conservation,
    reprocessed,
)
from cartwheel.quality.ledger import score_ledger
from cartwheel.quality.quarantine import quarantine_counts, record_rejects
from cartwheel.quality.validate import validate
from cartwheel.reports import now_iso

# SPEC §7 report keys for the six dimensions.
REPORT_KEYS = {
    "completeness": "null_checks",
    "uniqueness": "duplicate_checks",
    "referential_integrity": "referential_integrity",
    "validity": "range_checks",
    "consistency": "data_consistency",
    "accuracy": "accuracy_business_rules",
}
LEDGER_FILE = "defect_ledger.csv"


@dataclass
class QualityOutcome:
    report: dict
    conservation: list[dict]
    gate_reasons: list[str] = field(default_factory=list)
    validated_rows: dict[str, int] = field(default_factory=dict)
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.gate_reasons


def _dimension_summary(results: list[CheckResult]) -> dict:
    statuses = [r.status for r in results]
    worst = "failed" if "failed" in statuses else "warning" if "warning" in statuses else "passed"
    return {
        "status": worst,
        "checks": len(results),
        "passed": statuses.count("passed"),
        "warnings": statuses.count("warning"),
        "failed": statuses.count("failed"),
        "rows_checked": sum(r.rows_checked for r in results),
        "rows_failed": sum(r.rows_failed for r in results),
        "details": [
            {
                "check_id": r.check.id,
                "entity": r.check.entity,
                "description": r.check.description,
                "severity": r.check.severity,
                "rows_checked": r.rows_checked,
                "rows_failed": r.rows_failed,
                "failure_rate_pct": round(r.rate, 4),
                "warn_threshold_pct": r.check.warn,
                "error_threshold_pct": r.check.error,
                "status": r.status,
            }
            for r in results
        ],
    }


def gate_reasons(results: list[CheckResult], score: float, min_score: float) -> list[str]:
    """Why the run must stop before production (empty: it may go on)."""
    reasons = []
    if score < min_score:
        reasons.append(f"quality score {score:.2f} is below the minimum {min_score:.2f}")
    for r in results:
        if r.check.severity == "critical" and r.status == "failed":
            reasons.append(
                f"critical check {r.check.id} failed ({r.check.description}: "
                f"{r.rows_failed:,} of {r.rows_checked:,} rows, {r.rate:.2f}% > "
                f"{r.check.error:g}%)"
            )
    return reasons


def run_quality(
    engine: Engine,
    run_id: str,
    min_score: float,
    thresholds: dict[str, dict[str, float]] | None = None,
    input_dir: Path | None = None,
) -> QualityOutcome:
    """Validate this run's rows, quarantine the rejects, run the checks, keep the
    history, and decide the gate. Writes nothing to production."""
    validated = validate(engine)
    checks = load_checks(thresholds)
    with engine.transaction():
        record_rejects(engine, run_id)
        results = run_checks(engine, checks)
        checked_at = record_results(engine, run_id, results)
        balance = conservation(engine)
        record_conservation(engine, run_id, balance)
    score = quality_score(results)
    reasons = gate_reasons(results, score, min_score)
    report = {
        "check_timestamp": now_iso(),
        "run_id": run_id,
        "checks_performed": {
            REPORT_KEYS[dimension]: _dimension_summary(
                [r for r in results if r.check.dimension == dimension]
            )
            for dimension in REPORT_KEYS
        },
        "overall_quality_score": score,
        "quality_grade": quality_grade(score),
        "minimum_score": min_score,
        "gate": {"passed": not reasons, "reasons": reasons},
        "checked_at_utc": checked_at.isoformat(),
        "quarantined_rows": quarantine_counts(engine),
        "conservation": [{**row, "equation": equation(row)} for row in balance],
        "reprocessed_from_earlier_batches": reprocessed(engine),
    }
    ledger = (input_dir / LEDGER_FILE) if input_dir is not None else None
    if ledger is not None and ledger.is_file():
        report["ledger_comparison"] = score_ledger(engine, ledger)
    return QualityOutcome(report, balance, reasons, validated, results)


def keep_history(engine: Engine, run_id: str, outcome: QualityOutcome) -> None:
    """Record a stopped run's check results and conservation in the published database
    (the run's own copy is discarded, but its quality history must not be)."""
    record_results(engine, run_id, outcome.results)
    record_conservation(engine, run_id, outcome.conservation)
