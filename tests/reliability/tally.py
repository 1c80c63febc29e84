"""The reliability suite's tally, printed at the end of a pytest session."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Tally:
    cases: int = 0
    rows_lost: int = 0
    wrong_values: int = 0
    tracebacks: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # whole-run failures, readable files

    def lines(self) -> list[str]:
        return [
            f"reliability corpus: {self.cases} cases, {len(self.tracebacks)} tracebacks, "
            f"{self.rows_lost} rows lost, {self.wrong_values} wrong values, "
            f"{len(self.failures)} whole-run failures on readable files",
            *(f"  traceback: {name}" for name in self.tracebacks),
            *(f"  failure: {text}" for text in self.failures),
        ]


TALLY = Tally()
