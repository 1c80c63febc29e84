"""The quality step: validate, quarantine, check, score, gate — and its reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cartwheel.contract import ENTITIES, MANDATORY_COLUMNS, RAW_COLUMNS
from cartwheel.engines import Engine
from cartwheel.quality.checks import (
    CheckResult,
    largest_loss,
    load_checks,
    overall_score,
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

# The quality report's keys for the six dimensions (docs/contract.md).
REPORT_KEYS = {
    "completeness": "null_checks",
    "uniqueness": "duplicate_checks",
    "referential_integrity": "referential_integrity",
    "validity": "range_checks",
    "consistency": "data_consistency",
    "accuracy": "accuracy_business_rules",
}
LEDGER_FILE = "defect_ledger.csv"
# The checks that weigh the rows an entity lost (checks.yaml RET01-RET04).
LOSS_CHECK_PREFIX = "RET"


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
                "min_failed_rows": r.check.min_failed,
                "status": r.status,
            }
            for r in results
        ],
    }


def optional_completeness(engine: Engine) -> dict[str, dict[str, dict]]:
    """How complete each optional field is among this run's promoted rows (one query,
    one row: a scan per entity counting all its optional fields; a union of one part
    per field cost twice as much to plan): reported, never a reason to quarantine."""
    optional = {
        entity: columns
        for entity in ENTITIES
        if (columns := [c for c in RAW_COLUMNS[entity] if c not in MANDATORY_COLUMNS[entity]])
    }
    scans = [
        # Every count named (rows_N, column_N): the engines' result has no twin names.
        f"(select count(*) as rows_{number}, "
        f"{', '.join(f'count({column}) as {column}_{number}' for column in columns)} "
        f"from staging.{entity}_validated where disposition = 'promoted' "
        f"and batch_id in (select batch_id from ops.run_batches)) as counts_{number}"
        for number, (entity, columns) in enumerate(optional.items())
    ]
    counts = iter(engine.query("select * from " + ", ".join(scans))[0])
    report: dict[str, dict[str, dict]] = {}
    for entity, columns in optional.items():
        rows = int(next(counts))
        report[entity] = {}
        for column in columns:
            present = int(next(counts))
            report[entity][column] = {
                "present": present,
                "rows": rows,
                "complete_pct": round(100.0 * present / rows, 2) if rows else None,
            }
    return report


def _top_reasons(reasons: dict[str, int], shown: int = 3) -> str:
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{reason} {rows:,}" for reason, rows in ranked[:shown])


def gate_reasons(
    results: list[CheckResult],
    score: float,
    min_score: float,
    held: dict[str, dict[str, int]] | None = None,
) -> list[str]:
    """Why the run must stop before production (empty: it may go on). A catastrophe
    (most of an entity's rows rejected) comes first, named with its main reasons."""
    reasons = []
    for r in results:
        if r.check.id.startswith(LOSS_CHECK_PREFIX) and r.status == "failed":
            entity = r.check.entity.replace("_", " ")
            count = "all" if r.rows_failed == r.rows_checked else f"{r.rows_failed:,} of"
            why = _top_reasons((held or {}).get(r.check.entity, {}))
            reasons.append(f"{count} {r.rows_checked:,} {entity} rejected ({why})")
    if score < min_score:
        reasons.append(f"quality score {score:.2f} is below the minimum {min_score:.2f}")
    for r in results:
        if (
            r.check.severity == "critical"
            and r.status == "failed"
            and not r.check.id.startswith(LOSS_CHECK_PREFIX)
        ):
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
    tables_ready: bool = False,
) -> QualityOutcome:
    """Validate this run's rows, quarantine the rejects, run the checks, keep the
    history, and decide the gate. Writes nothing to production. `tables_ready`: an
    earlier batch of this run created the tables it needs."""
    validated = validate(engine, tables_ready)
    checks = load_checks(thresholds)
    with engine.transaction():
        record_rejects(engine, run_id)
        results = run_checks(engine, checks)
        checked_at = record_results(engine, run_id, results, tables_ready)
        balance = conservation(engine)
        record_conservation(engine, run_id, balance, tables_ready)
    check_score = quality_score(results)
    # The loss checks' floor: a few held rows of a small batch are no loss.
    floor = min((c.min_failed for c in checks if c.id.startswith(LOSS_CHECK_PREFIX)), default=1)
    lost_entity, lost_share = largest_loss(balance, floor)
    score = overall_score(check_score, lost_share)
    held = quarantine_counts(engine)
    reasons = gate_reasons(results, score, min_score, held)
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
        "score_components": {
            "checks_score": check_score,
            "largest_share_of_rows_lost": round(lost_share, 4),
            "entity_losing_most_rows": lost_entity,
        },
        "minimum_score": min_score,
        "gate": {"passed": not reasons, "reasons": reasons},
        "checked_at_utc": checked_at.isoformat(),
        "quarantined_rows": held,
        "optional_completeness": optional_completeness(engine),
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


def with_earlier_batches(earlier: dict, report: dict) -> dict:
    """The quality report of a run over several batches (`earlier`: its report so far):
    checks and score of the latest batch, plus every batch's score, gate and
    conservation rows."""
    entry = {
        "batch_ids": sorted({row["batch_id"] for row in report["conservation"]}),
        "overall_quality_score": report["overall_quality_score"],
        "quality_grade": report["quality_grade"],
        "gate": report["gate"],
    }
    return {
        **report,
        "batches": [*earlier.get("batches", []), entry],
        "conservation": [*earlier.get("conservation", []), *report["conservation"]],
    }


def transformation_with_earlier_batches(earlier: dict, summary: dict) -> dict:
    """`transformation_summary.json` over all batches of the run (`earlier`: its summary
    so far): counts summed per table, the conservation equation of every batch kept."""
    processed = summary["records_processed"]
    for table, before in earlier.get("records_processed", {}).items():
        now = processed.setdefault(table, {})
        for key, value in before.items():
            if key == "rejected_reasons":
                reasons = now.setdefault(key, {})
                for reason, rows in value.items():
                    reasons[reason] = reasons.get(reason, 0) + rows
            elif key == "table_rows":
                now.setdefault(key, value)  # a state: the latest batch's value stands
            elif isinstance(value, int):
                now[key] = (now.get(key) or 0) + value
    return {
        **summary,
        "records_processed": processed,
        "conservation": [*earlier.get("conservation", []), *summary["conservation"]],
    }
