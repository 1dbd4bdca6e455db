"""The shape every eligibility rule returns (DESIGN.md "Eligibility: rules as data"): eligible
or not, plus one line per criterion with a code, whether it passed, and a message in the
reader's language that names the values used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Criterion:
    code: str
    passed: bool
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "passed": self.passed, "message": str(self.message)}


@dataclass
class RuleResult:
    criteria: list[Criterion] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def eligible(self) -> bool:
        return all(c.passed for c in self.criteria)

    @property
    def failures(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.passed]

    def add(self, code: str, passed: bool, message: str) -> None:
        self.criteria.append(Criterion(code=code, passed=passed, message=message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "criteria": [c.as_dict() for c in self.criteria],
            "parameters": self.parameters,
        }
