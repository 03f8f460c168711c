"""The independent checker rejects hand-made bad rosters with the right violation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from matching.instances.curtois import parse_curtois
from matching.roster_check import Rule, check_nrp, check_roster
from matching.rostering.model import (
    Assignment,
    Credential,
    RosterProblem,
    Rules,
    Shift,
    Window,
    Worker,
)

MONDAY = datetime(2025, 3, 3, tzinfo=UTC)


def at(day: float, hour: float = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hour)


def s(sid: str, day: float, hour: float, hours: float, **kw: object) -> Shift:
    return Shift(sid, at(day, hour), at(day, hour + hours), **kw)  # type: ignore[arg-type]


def broken(problem: RosterProblem, *pairs: tuple[str, str]) -> set[Rule]:
    return check_roster(problem, [Assignment(w, sh) for w, sh in pairs]).rules_broken()


def test_a_valid_roster_passes_and_terms_are_recomputed() -> None:
    p = RosterProblem(
        (s("a", 0, 8, 8, place=(50.85, 4.36)), s("b", 1, 8, 8, demand=2)),
        (
            Worker(
                "w",
                home=(50.85, 4.35),
                desired_weekly_hours=32,
                preferences=MappingProxyType({"b": 2}),
            ),
            Worker("v", desired_weekly_hours=8),
        ),
    )
    report = check_roster(p, [Assignment("w", "a"), Assignment("w", "b"), Assignment("v", "b")])
    assert report.ok
    assert report.unfilled == 0
    assert report.travel == 7  # ~700 m in 100 m steps
    assert report.preference == 2
    assert report.minutes == {"w": 960, "v": 480}
    assert report.max_shortfall_permille == 0  # w's wish is capped by the 16 h of shifts there are


@pytest.mark.parametrize(
    ("problem", "pairs", "rule"),
    [
        (
            RosterProblem((s("a", 0, 8, 8), s("b", 0, 12, 8)), (Worker("w"),)),
            [("w", "a"), ("w", "b")],
            Rule.OVERLAP,
        ),
        (
            RosterProblem((s("a", 0, 8, 8), s("b", 1, 2, 4)), (Worker("w"),)),
            [("w", "a"), ("w", "b")],
            Rule.REST,
        ),
        (
            RosterProblem(
                (s("a", 0, 8, 8), s("b", 1, 8, 8)), (Worker("w"),), Rules(max_weekly_hours=10)
            ),
            [("w", "a"), ("w", "b")],
            Rule.WEEKLY_CAP,
        ),
        (
            RosterProblem((s("a", 0, 8, 8, skills=frozenset({"x"})),), (Worker("w"),)),
            [("w", "a")],
            Rule.SKILL,
        ),
        (
            RosterProblem(
                (s("a", 2, 8, 8, credentials=frozenset({"lic"})),),
                (Worker("w", credentials=(Credential("lic", at(2, 8)),)),),
            ),
            [("w", "a")],
            Rule.CREDENTIAL,
        ),
        (
            RosterProblem(
                (s("a", 0, 8, 8),), (Worker("w", availability=(Window(at(0, 9), at(0, 20)),)),)
            ),
            [("w", "a")],
            Rule.AVAILABILITY,
        ),
        (
            RosterProblem((s("a", 0, 8, 8),), (Worker("w", declined=frozenset({"a"})),)),
            [("w", "a")],
            Rule.DECLINED,
        ),
        (
            RosterProblem(
                (s("a", 0, 22, 8, category="night"),),
                (Worker("w", category="apprentice"),),
                Rules(forbidden_categories=MappingProxyType({"apprentice": frozenset({"night"})})),
            ),
            [("w", "a")],
            Rule.CATEGORY,
        ),
        (
            RosterProblem((s("a", 0, 8, 8),), (Worker("w"), Worker("v"))),
            [("w", "a"), ("v", "a")],
            Rule.OVER_DEMAND,
        ),
        (RosterProblem((s("a", 0, 8, 8, min_staff=1),), (Worker("w"),)), [], Rule.MIN_STAFF),
        (RosterProblem((s("a", 0, 8, 8),), (Worker("w"),)), [("w", "zzz")], Rule.UNKNOWN_ID),
        (
            RosterProblem((s("a", 0, 8, 8, demand=2),), (Worker("w"),)),
            [("w", "a"), ("w", "a")],
            Rule.DUPLICATE,
        ),
    ],
)
def test_bad_city_rosters_are_rejected(
    problem: RosterProblem, pairs: list[tuple[str, str]], rule: Rule
) -> None:
    assert rule in broken(problem, *pairs)


def test_weekly_cap_counts_iso_weeks_in_the_rules_timezone() -> None:
    # Sunday 23:30 UTC is already Monday in Brussels: same ISO week as the Monday shift there.
    p = RosterProblem(
        (s("sun", 6, 23.5, 6), s("mon", 7, 18, 6)),
        (Worker("w"),),
        Rules(max_weekly_hours=10, timezone="Europe/Brussels"),
    )
    assert Rule.WEEKLY_CAP in broken(p, ("w", "sun"), ("w", "mon"))
    utc = RosterProblem(p.shifts, p.workers, Rules(max_weekly_hours=10))
    assert not broken(utc, ("w", "sun"), ("w", "mon"))


@dataclass(frozen=True)
class LooseShift:
    """Any object with the right fields is checked: the checker does not need the solver's types."""

    id: str
    start: datetime
    end: datetime
    demand: int = 1
    skills: frozenset[str] = frozenset()
    credentials: frozenset[str] = frozenset()
    category: str = "day"
    place: tuple[float, float] | None = None
    min_staff: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def test_checker_reads_structurally() -> None:
    p = RosterProblem((LooseShift("a", at(0, 8), at(0, 16)),), (Worker("w"),))  # type: ignore[arg-type]
    assert check_roster(p, [Assignment("w", "a")]).ok


# --- the benchmark checker ------------------------------------------------------------------

TINY = """<?xml version="1.0" encoding="UTF-8"?>\r
<SchedulingPeriod>\r
  <StartDate>2014-01-06</StartDate><EndDate>2014-01-19</EndDate>\r
  <ShiftTypes>\r
    <Shift ID="E"><StartTime>6:0</StartTime><Duration>480</Duration></Shift>\r
    <Shift ID="L"><StartTime>14:0</StartTime><Duration>480</Duration></Shift>\r
  </ShiftTypes>\r
  <Contracts>\r
    <Contract ID="All"><MinRestTime>840</MinRestTime></Contract>\r
    <Contract ID="A">\r
      <MaxTot value="2" shift="L"/>\r
      <MaxSeq value="3" shift="$"/><MinSeq value="2" shift="$"/><MinSeq value="2" shift="-"/>\r
      <Workload><TimeUnits><Max><Count>3840</Count></Max></TimeUnits>\r
                <TimeUnits><Min><Count>960</Count></Min></TimeUnits></Workload>\r
      <Patterns><Match><Max><Count>1</Count></Max>\r
        <Pattern><StartDay>Saturday</StartDay><Shift>$</Shift><Shift>-</Shift></Pattern>\r
        <Pattern><StartDay>Saturday</StartDay><Shift>-</Shift><Shift>$</Shift></Pattern>\r
        <Pattern><StartDay>Saturday</StartDay><Shift>$</Shift><Shift>$</Shift></Pattern>\r
      </Match></Patterns>\r
      <ValidShifts shift="E,L,"/>\r
    </Contract>\r
    <Contract ID="B"><ValidShifts shift="E,"/></Contract>\r
  </Contracts>\r
  <Employees>\r
    <Employee ID="P"><ContractID>All</ContractID><ContractID>A</ContractID></Employee>\r
    <Employee ID="Q"><ContractID>All</ContractID><ContractID>B</ContractID></Employee>\r
  </Employees>\r
  <FixedAssignments>\r
    <Employee><EmployeeID>P</EmployeeID><Assign><Shift>-</Shift><Day>0</Day></Assign></Employee>\r
  </FixedAssignments>\r
  <ShiftOffRequests><ShiftOff weight="3">\r
    <Shift>E</Shift><EmployeeID>Q</EmployeeID><Day>2</Day></ShiftOff></ShiftOffRequests>\r
  <ShiftOnRequests><ShiftOn weight="2">\r
    <Shift>L</Shift><EmployeeID>P</EmployeeID><Day>3</Day></ShiftOn></ShiftOnRequests>\r
  <CoverRequirements>\r
    <DateSpecificCover><Day>2</Day><Cover><Shift>E</Shift>\r
      <Min weight="100">2</Min><Max weight="1">2</Max></Cover></DateSpecificCover>\r
    <DateSpecificCover><Day>3</Day><Cover><Shift>E</Shift>\r
      <Min weight="100">0</Min><Max weight="1">0</Max></Cover></DateSpecificCover>\r
  </CoverRequirements>\r
</SchedulingPeriod>\r
"""


def test_nrp_valid_roster_and_its_penalty() -> None:
    inst = parse_curtois(TINY)
    roster = {("P", 1): "E", ("P", 2): "E", ("P", 3): "L"}
    report = check_nrp(inst, roster)
    assert report.ok, report.violations
    # cover day 2: 1 of 2 (100); on-request met (0); off-request not hit (0); day 3 E: 0 (0)
    assert (report.cover_under, report.cover_over, report.on_requests, report.off_requests) == (
        100,
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("roster", "rule"),
    [
        ({("P", 0): "E", ("P", 1): "E"}, Rule.FIXED),
        ({("Q", 1): "L"}, Rule.VALID_SHIFT),
        ({("P", 1): "L", ("P", 2): "E"}, Rule.REST),
        ({("P", 1): "E", ("P", 2): "E", ("P", 3): "E", ("P", 4): "E"}, Rule.MAX_CONSECUTIVE),
        ({("P", 1): "E", ("P", 3): "E", ("P", 4): "E"}, Rule.MIN_CONSECUTIVE),
        ({("P", 1): "E", ("P", 2): "E", ("P", 4): "E", ("P", 5): "E"}, Rule.MIN_DAYS_OFF),
        ({("P", 5): "E", ("P", 6): "E", ("P", 12): "E", ("P", 13): "E"}, Rule.MAX_WEEKENDS),
        ({("P", 1): "L", ("P", 2): "L", ("P", 4): "L", ("P", 5): "L"}, Rule.MAX_PER_TYPE),
        ({("P", 1): "E"}, Rule.MIN_TOTAL_MINUTES),
        ({("P", d): "E" for d in (1, 2, 3, 5, 6, 7, 9, 10, 11)}, Rule.MAX_TOTAL_MINUTES),
        ({("Z", 1): "E"}, Rule.UNKNOWN_ID),
    ],
)
def test_bad_nrp_rosters_are_rejected(roster: dict[tuple[str, int], str], rule: Rule) -> None:
    assert rule in check_nrp(parse_curtois(TINY), roster).rules_broken()


def test_nrp_boundary_runs_are_exempt_from_minimums() -> None:
    # A single worked day at the start and at the end of the horizon is not a too-short run.
    report = check_nrp(parse_curtois(TINY), {("P", 1): "E", ("P", 2): "E", ("P", 13): "E"})
    assert Rule.MIN_CONSECUTIVE not in report.rules_broken()
