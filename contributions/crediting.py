"""Crediting: the contribution rules every service declares, applied to the events it publishes.

Each service's spec lists its `contribution_rules` (kernel.valueflows.ContributionRule): which of
its published events credit which member with how much of which contribution type. This module
gathers them (`ContributionRules`), gives the consumer a tolerant model for every event a rule
reads that contributions has no model of yet (`inbound_for`), and turns one consumed event into
its credits. The ledger's code never changes for a new type: a service adds a rule.

Each credit is a balanced journal entry, its source the event's aggregate
(`<city>/<service>/<aggregate id>`) and its purpose the rule's, so the same event credited twice
is the same entry; its memo names the event type and id it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from pydantic import create_model

from contributions.domain import Posting, member_account
from kernel.bus.consumer import Inbound
from kernel.events import TolerantModel
from kernel.valueflows import Action, ContributionRule, ContributionType

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from kernel.service import ServiceSpec

CONTRIBUTIONS_RECOGNISED = "contributions:recognised"
LEGACY_ACCOUNTS = {"hours:driving": "work/driving"}  # account kinds older than the rules


@dataclass(frozen=True)
class Credit:
    """One economic event crediting one member, as the ledger posts it."""

    member_id: str
    type: ContributionType
    quantity: Decimal
    source: str
    purpose: str
    memo: str
    at: datetime
    account: str

    def postings(self) -> list[Posting]:
        unit = self.type.unit
        return [
            Posting(CONTRIBUTIONS_RECOGNISED, self.quantity, unit),
            Posting(member_account(self.member_id, self.account), -self.quantity, unit),
        ]


def logged_type(kind: str) -> ContributionType:
    """The type of logged work of one kind (care, code, ...): ValueFlows `work`, in hours."""
    return ContributionType(Action.WORK, kind, "HOUR")


def contribution_type_of(account_kind: str) -> str | None:
    """The contribution type a member account kind holds (`contrib:work/care` -> `work/care`)."""
    if account_kind.startswith("contrib:"):
        return account_kind[len("contrib:") :]
    return LEGACY_ACCOUNTS.get(account_kind)


class ContributionRules:
    """Every service's rules, by the (event type, major version) they read."""

    def __init__(self, rules: Iterable[ContributionRule]) -> None:
        self.by_event: dict[tuple[str, int], list[ContributionRule]] = {}
        for rule in rules:
            found = self.by_event.setdefault(rule.reads, [])
            if any(r.purpose == rule.purpose for r in found):
                raise ValueError(
                    f"two rules on {rule.event} v{rule.version} share {rule.purpose!r}"
                )
            found.append(rule)

    @classmethod
    def of_specs(cls, specs: Iterable[ServiceSpec]) -> ContributionRules:
        return cls(rule for spec in specs for rule in spec.contribution_rules)

    @property
    def types(self) -> list[ContributionType]:
        seen = {r.type.key: r.type for rules in self.by_event.values() for r in rules}
        return [seen[k] for k in sorted(seen)]

    def credits(self, event: TolerantModel) -> list[Credit]:
        """The credits one consumed event stands behind (none if no rule reads it)."""
        reads = getattr(type(event), "reads", None)
        out: list[Credit] = []
        for rule in self.by_event.get(reads, []) if reads else []:
            member = getattr(event, rule.provider, None)
            raw = getattr(event, rule.quantity, None)
            if not member or raw is None:
                continue
            quantity = (Decimal(raw) / rule.per).quantize(
                Decimal(1).scaleb(-rule.places), rounding=ROUND_HALF_EVEN
            )
            service = rule.event.partition(".")[0]
            out.append(
                Credit(
                    member_id=str(member),
                    type=rule.type,
                    quantity=quantity,
                    source=f"{event.city}/{service}/{event.aggregate_id}",
                    purpose=rule.purpose,
                    memo=(
                        f"{quantity} {rule.type.unit} {rule.type.key} from {rule.event} "
                        f"{event.event_id}"
                    ),
                    at=event.occurred_at,
                    account=rule.account,
                )
            )
        return out

    def inbound_for(self, inbound: Inbound) -> Inbound:
        """`inbound` plus a tolerant model for every event a rule reads that it has none of."""
        models: dict[tuple[str, int], type[TolerantModel]] = dict(inbound.models)
        for reads, rules in self.by_event.items():
            if reads in models:
                continue
            fields: dict[str, Any] = {}
            for rule in rules:
                fields[rule.provider] = (str, ...)
                fields[rule.quantity] = (Decimal, ...)
            name = "Credited_" + "".join(c if c.isalnum() else "_" for c in reads[0])
            model = create_model(name, __base__=TolerantModel, **fields)
            model.reads = reads
            models[reads] = model
        return Inbound(models, inbound.ignores - {t for t, _ in models})


def with_contribution_rules(specs: tuple[ServiceSpec, ...]) -> tuple[ServiceSpec, ...]:
    """The specs, with contributions reading every event a rule names, from every service that
    declares one (gateway/services.py applies this to the list of services)."""
    rules = ContributionRules.of_specs(specs)
    out = []
    for spec in specs:
        if spec.name == "contributions" and spec.inbound is not None:
            extra = {r.event.partition(".")[0] for rs in rules.by_event.values() for r in rs}
            consumes = tuple(dict.fromkeys((*spec.consumes, *sorted(extra - {spec.name}))))
            spec = replace(spec, inbound=rules.inbound_for(spec.inbound), consumes=consumes)
        out.append(spec)
    return tuple(out)


def service_rules() -> ContributionRules:
    """The rules of every service this gateway runs (read when the application starts)."""
    from gateway.services import SPECS  # the list of services sits above every service

    return ContributionRules.of_specs(SPECS)
