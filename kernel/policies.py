"""Policies: the city config file (version 1) plus the changes decisions adopted, by date.

Policies change only through a recorded decision (contributions/decisions). A passed decision
publishes `decisions.PolicyChanged` (a version number, the decision's id, the changes and the
date they take effect from); a service that reads a policy keeps those events in a table (the
`PolicyLog` read model, fed by its consumer) and asks `Policies.at(when)` for the config in
force then and the version it is. Every computation that reads a policy names that version
(a ride's fare split, a period's shares), so a result can always be traced to the rules it used.

A change is a typed path into the config and a new value (`rides.split`, `governance.
quorum_percent`, `contributions.equation`), never code: it is applied to the config's data
and the whole config is validated again by `kernel.cities.CityConfig`, so a change the file
could not hold (a split not summing to 100, a negative weight) is refused before any vote.

Versions take effect in order: version N's `effective_from` is never before version N-1's
(the decisions service clamps it when it publishes), so the config at a time is the file plus
every version in force then, applied in version order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime  # noqa: TC003 (pydantic needs it at runtime)
from functools import singledispatchmethod
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import ValidationError

from kernel.cities import CityConfig
from kernel.events import TolerantModel
from kernel.readside import Column, Op, ReadModel, Table, Upsert

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from kernel.readside import Row

FILE_VERSION = 1
# What no decision changes: the city's identity and the unit its ledger is kept in.
FIXED_PATHS = frozenset({"id", "currency"})
MAX_PATH = 120


class InvalidPolicyChange(ValueError):
    """A change the config cannot hold: an unknown or fixed path, or a value its schema
    refuses. `path` names the change; nothing was changed."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.reason = message


@dataclass(frozen=True)
class PolicyChange:
    """A dotted path into the city config and its new value (JSON: a number, a string, a
    mapping...)."""

    path: str
    value: Any

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "value": self.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PolicyChange:
        return cls(str(data["path"]), data["value"])


@dataclass(frozen=True)
class PolicyVersion:
    """One adopted set of changes. Version 1 is the file (no decision, no changes)."""

    version: int
    effective_from: datetime | None
    decision_id: str | None
    changes: tuple[PolicyChange, ...]


@dataclass(frozen=True)
class EffectivePolicy:
    """The config in force at a time, and the version it is (name it in what you compute)."""

    version: int
    config: CityConfig


def _segments(path: str) -> list[str]:
    if not path or len(path) > MAX_PATH:
        raise InvalidPolicyChange(path, f"a path is 1 to {MAX_PATH} characters")
    parts = path.split(".")
    if any(not p.isidentifier() for p in parts):
        raise InvalidPolicyChange(path, "a path is dotted names, like rides.split")
    if parts[0] in FIXED_PATHS:
        raise InvalidPolicyChange(path, f"{parts[0]} is not changed by a decision")
    return parts


def _set(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = _segments(path)
    node: Any = data
    for part in parents:
        if not isinstance(node, dict) or part not in node or node[part] is None:
            raise InvalidPolicyChange(path, f"the city config has no {part!r} here")
        node = node[part]
    if not isinstance(node, dict) or last not in node:
        raise InvalidPolicyChange(path, f"the city config has no setting {last!r} here")
    node[last] = value


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        node = node[part]
    return node


def apply_changes(config: CityConfig, changes: Iterable[PolicyChange]) -> CityConfig:
    """The config with the changes applied, validated whole; raises `InvalidPolicyChange`."""
    changes = list(changes)
    data = config.model_dump(mode="json")
    for change in changes:
        _set(data, change.path, change.value)
    try:
        return CityConfig.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        path = next((c.path for c in changes if where.startswith(c.path)), where)
        message = str(error["msg"]).removeprefix("Value error, ")
        raise InvalidPolicyChange(
            path, message if where == path else f"{where}: {message}"
        ) from None


def canonical(config: CityConfig, changes: Sequence[PolicyChange]) -> tuple[PolicyChange, ...]:
    """The changes validated against `config`, each value as the config holds it (numbers as
    the schema reads them: "10" and 10 both become "10" for a decimal setting)."""
    if not changes:
        raise InvalidPolicyChange("changes", "a policy decision changes at least one setting")
    paths = [c.path for c in changes]
    if len(set(paths)) != len(paths):
        raise InvalidPolicyChange("changes", "each path may be changed once per decision")
    for a in paths:
        for b in paths:
            if a != b and b.startswith(a + "."):
                raise InvalidPolicyChange(b, f"is inside {a}, which the same decision changes")
    applied = apply_changes(config, changes).model_dump(mode="json")
    return tuple(PolicyChange(c.path, _get(applied, c.path)) for c in changes)


class Policies:
    """The effective city config at any time: the file plus the versions adopted since."""

    def __init__(self, base: CityConfig, versions: Iterable[PolicyVersion] = ()) -> None:
        self.base = base
        self.versions = sorted(versions, key=lambda v: v.version)
        self._configs: dict[int, CityConfig] = {FILE_VERSION: base}

    def at(self, when: datetime) -> EffectivePolicy:
        """What was in force at `when`."""
        version = FILE_VERSION
        for v in self.versions:
            if v.effective_from is not None and v.effective_from <= when:
                version = v.version
        return EffectivePolicy(version, self.config(version))

    def config(self, version: int) -> CityConfig:
        """The config of one version (the file, with every version up to it applied)."""
        found = self._configs.get(version)
        if found is not None:
            return found
        config = self.base
        for v in self.versions:
            if v.version > version:
                break
            config = apply_changes(config, v.changes)
            self._configs[v.version] = config
        if version not in self._configs:
            raise LookupError(f"no policy version {version}")
        return self._configs[version]

    def history(self) -> list[PolicyVersion]:
        """Every version, the file first."""
        return [PolicyVersion(FILE_VERSION, None, None, ()), *self.versions]

    @property
    def latest(self) -> int:
        return self.versions[-1].version if self.versions else FILE_VERSION


POLICY_VERSIONS = Table(
    "versions",
    (
        Column("version", "int", nullable=False),
        Column("effective_from", "timestamp", nullable=False),
        Column("decision_id", nullable=False),
        Column("changes", "json", nullable=False),
    ),
    key=("version",),
)


def version_row(
    version: int, effective_from: datetime, decision_id: str, changes: Sequence[dict[str, Any]]
) -> Op:
    return Upsert(
        "versions",
        {
            "version": version,
            "effective_from": effective_from,
            "decision_id": decision_id,
            "changes": list(changes),
        },
    )


def _version(row: Row) -> PolicyVersion:
    changes = row["changes"]
    return PolicyVersion(
        version=int(row["version"]),
        effective_from=row["effective_from"],
        decision_id=row["decision_id"],
        changes=tuple(PolicyChange.from_dict(c) for c in changes),
    )


class PolicyVersionsBase(ReadModel):
    """The table of adopted versions; subclasses register the events that fill it."""

    name = "policy_versions"
    tables = (POLICY_VERSIONS,)

    def versions(self) -> list[PolicyVersion]:
        return [_version(r) for r in self.view.select("versions", order_by=("version",))]


class PolicyChanged(TolerantModel):
    """A consumer's model of `decisions.PolicyChanged` v1 (what `PolicyLog` keeps)."""

    reads: ClassVar[tuple[str, int]] = ("decisions.PolicyChanged", 1)

    policy_version: int
    decision_id: str
    changes: list[dict[str, Any]]
    effective_from: datetime


class PolicyLog(PolicyVersionsBase):
    """The versions a consuming service learned from `decisions.PolicyChanged`.

    A service that reads policies lists it in its application's `inbound_read_models` and
    `PolicyChanged` in its `Inbound`, consumes "decisions", and then
    `FederationApplication.policies()` answers with every version it has applied.
    """

    name = "policy_log"

    @singledispatchmethod
    def rows(self, event: Any) -> list[Op]:
        return []

    @rows.register
    def _(self, event: PolicyChanged) -> list[Op]:
        return [
            version_row(
                event.policy_version, event.effective_from, event.decision_id, event.changes
            )
        ]
