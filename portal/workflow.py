"""The one workflow mechanism every application-like model uses (DESIGN.md "The shape of
every application"). A model declares its ``Workflow``: the status field and the table of
allowed transitions, each with who may take it, whether a reason is required, and whom
to notify. ``portal.services.transition`` is the only code that moves a status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

    from portal.models import AuditEntry, User

# (recipient, notification kind, context) triples produced by a transition.
NotificationSpec = tuple["User", str, dict[str, Any]]


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    # Who may take this step: (actor, locked object) -> bool. System actions (actor None)
    # come from Celery beat and are always allowed.
    allowed: Callable[[User, Model], bool]
    requires_reason: bool = False
    # Extra writes when the step is taken: (object, actor, reason) -> names of fields set.
    apply: Callable[[Model, User | None, str], Iterable[str]] | None = None
    notify: Callable[[Model, AuditEntry], Iterable[NotificationSpec]] | None = None


@dataclass
class Workflow:
    model_label: str
    transitions: list[Transition]
    status_field: str = "status"
    _index: dict[tuple[str, str], Transition] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._index = {(t.source, t.target): t for t in self.transitions}

    def get(self, source: str, target: str) -> Transition | None:
        return self._index.get((str(source), str(target)))

    def targets(self, source: str) -> list[str]:
        return [t.target for t in self.transitions if t.source == str(source)]

    def available(self, obj: Model, actor: User) -> list[Transition]:
        source = getattr(obj, self.status_field)
        return [t for t in self.transitions if t.source == source and t.allowed(actor, obj)]


_REGISTRY: dict[str, Workflow] = {}


def register(workflow: Workflow) -> Workflow:
    _REGISTRY[workflow.model_label] = workflow
    return workflow


def workflow_for(obj_or_model: Any) -> Workflow:
    label = obj_or_model._meta.label
    try:
        return _REGISTRY[label]
    except KeyError:
        raise LookupError(f"No workflow is registered for {label}.") from None
