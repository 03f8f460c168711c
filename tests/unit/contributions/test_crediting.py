"""Crediting from contribution rules: a new service's rule credits its events without a change to
the ledger's code, every line points at its event, and the tables equal a plain recomputation
whatever the delivery order, with duplicates (the same delivery again, and the same fact under
another source position)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import Tracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contributions.application import Contributions
from contributions.crediting import ContributionRules, with_contribution_rules
from contributions.inbound import INBOUND
from gateway.services import SPECS
from kernel.config import Settings
from kernel.ids import new_member_id
from kernel.service import ServiceSpec
from kernel.valueflows import Action, ContributionRule, ContributionType
from services.rides.spec import SPEC as RIDES
from tests.support.ledger import CITY, completed

if TYPE_CHECKING:
    from kernel.events import TolerantModel

HOSTS = [new_member_id("demo") for _ in range(3)]  # type: ignore[arg-type]
HOSTING = ContributionRule(
    "stays.StayCompleted",
    1,
    ContributionType(Action.WORK, "hosting", "NIGHT"),
    provider="host_id",
    quantity="nights",
    places=0,
)
RULES = ContributionRules(
    [*ContributionRules.of_specs([RIDES]).by_event[("rides.RideCompleted", 1)], HOSTING]
)
INBOUND_WITH_STAYS = RULES.inbound_for(INBOUND)
STAY = INBOUND_WITH_STAYS.models[("stays.StayCompleted", 1)]
AT = datetime(2026, 11, 3, 10, tzinfo=UTC)


def new_app() -> Contributions:
    return Contributions(Settings(persistence="popo"), city=CITY, rules=RULES)


def stay(host: str, nights: int, at: datetime) -> TolerantModel:
    stay_id = uuid.uuid4()
    return STAY.model_validate(
        {
            "event_id": uuid.uuid4(),
            "city": "demo",
            "occurred_at": at,
            "aggregate_id": stay_id,
            "host_id": host,
            "nights": nights,
            "guest_id": "demo:someone",  # a field the rule does not read is ignored
        }
    )


def deliver(app: Contributions, event: Any, position: int) -> None:
    """What the consumer does: skip a delivery already applied, else apply it with tracking."""
    service = event.reads[0].partition(".")[0]
    tracking = Tracking(f"{event.city}/{service}/{event.aggregate_id}", position)
    if not app.already_applied(tracking):
        app.process_event(event, tracking)


def test_a_new_services_rule_credits_its_events_without_touching_the_ledger() -> None:
    app = new_app()
    event = stay(HOSTS[0], 3, AT)
    deliver(app, event, 1)
    rows = app.contribution_days().view.rows_of_generation("member_days", 1)
    assert [(r["member_id"], r["type"], r["unit"], r["quantity"]) for r in rows] == [
        (HOSTS[0], "work/hosting", "NIGHT", Decimal(3))
    ]
    ledger, _ = app.ledger()
    (line,) = [x for x in ledger.member_lines(HOSTS[0], _page()).items]
    assert line.account == f"member:{HOSTS[0]}:contrib:work/hosting"
    assert f"stays.StayCompleted {event.event_id}" in line.memo  # the event it came from
    assert all(u.balanced for u in ledger.units())


def _page() -> Any:
    from kernel.paging import page_request

    return page_request(20, None, arity=3)


def test_the_gateway_reads_every_event_a_rule_names_from_the_service_that_declares_it() -> None:
    stays = ServiceSpec("contributions", Contributions, contribution_rules=())
    assert stays.contribution_rules == ()
    fake = ServiceSpec(
        "rides", RIDES.application, contribution_rules=(*RIDES.contribution_rules, HOSTING)
    )
    contributions = next(s for s in SPECS if s.name == "contributions")
    specs = with_contribution_rules((fake, contributions))
    found = next(s for s in specs if s.name == "contributions")
    assert ("stays.StayCompleted", 1) in found.inbound.models  # type: ignore[union-attr]
    assert "stays" in found.consumes


deliveries = st.lists(
    st.tuples(
        st.sampled_from(["ride", "stay"]),
        st.integers(min_value=0, max_value=2),  # who
        st.integers(min_value=1, max_value=400),  # minutes driving, or nights
        st.integers(min_value=0, max_value=60),  # days after AT
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=deliveries, data=st.data())
def test_the_tables_equal_a_plain_recomputation_in_any_order_with_duplicates(
    facts: list[tuple[str, int, int, int]], data: st.DataObject
) -> None:
    events: list[tuple[Any, int]] = []
    for position, (kind, who, amount, after) in enumerate(facts, start=1):
        at = AT + timedelta(days=after)
        if kind == "ride":
            event: Any = completed(HOSTS[who], 500 + amount, Decimal(amount), at=at)
        else:
            event = stay(HOSTS[who], amount % 14 + 1, at)
        events.append((event, position))
    again = data.draw(st.lists(st.sampled_from(events), max_size=5))  # the same delivery
    moved = [(e, p + 1000) for e, p in data.draw(st.lists(st.sampled_from(events), max_size=3))]
    feed = data.draw(st.permutations([*events, *again, *moved]))
    app = new_app()

    for event, position in feed:
        deliver(app, event, position)

    # A plain recomputation from the facts, once each.
    per_day: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    balances: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for event, _ in events:
        if hasattr(event, "driver_id"):
            hours = (Decimal(event.driver_minutes) / 60).quantize(Decimal("0.01"))
            key = (event.driver_id, "work/driving", "HOUR", event.occurred_at.date().isoformat())
            account = f"member:{event.driver_id}:hours:driving"
            per_day[key] += hours
            balances[("HOUR", account)] -= hours
            balances[("EUR", f"member:{event.driver_id}:earnings")] -= event.split["driver"]
        else:
            key = (event.host_id, "work/hosting", "NIGHT", event.occurred_at.date().isoformat())
            per_day[key] += Decimal(event.nights)
            balances[("NIGHT", f"member:{event.host_id}:contrib:work/hosting")] -= event.nights
    kept = {
        (r["member_id"], r["type"], r["unit"], r["day"]): r["quantity"]
        for r in app.contribution_days().view.rows_of_generation("member_days", 1)
    }
    assert kept == dict(per_day)
    ledger, _ = app.ledger()
    for (unit, account), expected in balances.items():
        assert ledger.balance(account, unit) == expected
    assert all(u.balanced for u in ledger.units())
