"""Reader for the Curtois & Qu employee shift scheduling instances (`.ros`, SchedulingPeriod-3.0).

The instances (schedulingbenchmarks.org, copied under `../shared/benchmarks/shift-scheduling/`) are
day-by-shift-type rosters. The reader turns one file into a frozen `CurtoisInstance` with every
contract already merged per employee (the "All" contract plus the employee's own), so solvers and
the checker read plain numbers. Elements it does not understand raise `InvalidProblem` naming
them, rather than being silently ignored.

The rules of the benchmark (as its published evaluators apply them):

- hard: at most one shift a day; a shift needs `min_rest_minutes` rest after the previous one;
  at most `max_shifts_per_type[s]` shifts of type s; total minutes within [min, max]; at most
  `max_consecutive_shifts` worked days in a row; a run of worked days that does not touch the
  start or the end of the horizon has at least `min_consecutive_shifts` days; likewise a run of
  days off between two worked days has at least `min_consecutive_days_off` days; at most
  `max_weekends` worked weekends (Saturday or Sunday worked); only `valid_shifts`; fixed
  assignments (days off) hold.
- soft: each unmet shift-on request and each met shift-off request costs its weight; each missing
  worker below a cover minimum costs the minimum's weight, each extra worker above the maximum
  costs the maximum's weight.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from matching.status import InvalidProblem

if TYPE_CHECKING:
    from collections.abc import Mapping

DAY_OFF = "-"
ANY_SHIFT = "$"
_WEEKEND_PATTERNS = frozenset({("$", "-"), ("-", "$"), ("$", "$")})


@dataclass(frozen=True, slots=True)
class ShiftType:
    id: str
    start_minute: int  # minutes after midnight
    duration: int  # minutes


@dataclass(frozen=True, slots=True)
class Contract:
    """The merged contract of one employee. `None` means "no such rule"."""

    min_rest_minutes: int = 0
    max_consecutive_shifts: int | None = None
    min_consecutive_shifts: int | None = None
    min_consecutive_days_off: int | None = None
    min_total_minutes: int | None = None
    max_total_minutes: int | None = None
    max_weekends: int | None = None
    valid_shifts: frozenset[str] | None = None  # None: every shift type
    max_shifts_per_type: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Employee:
    id: str
    contract_ids: tuple[str, ...]
    contract: Contract


@dataclass(frozen=True, slots=True)
class FixedAssignment:
    employee: str
    day: int
    shift: str  # DAY_OFF for a fixed day off


@dataclass(frozen=True, slots=True)
class ShiftRequest:
    employee: str
    day: int
    shift: str
    weight: int


@dataclass(frozen=True, slots=True)
class Cover:
    day: int
    shift: str
    min: int | None
    min_weight: int
    max: int | None
    max_weight: int


@dataclass(frozen=True, slots=True)
class CurtoisInstance:
    name: str
    start_date: date
    end_date: date
    shift_types: tuple[ShiftType, ...]
    employees: tuple[Employee, ...]
    fixed: tuple[FixedAssignment, ...]
    on_requests: tuple[ShiftRequest, ...]
    off_requests: tuple[ShiftRequest, ...]
    cover: tuple[Cover, ...]

    @property
    def num_days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    def weekends(self) -> tuple[tuple[int, ...], ...]:
        """Day indices of each Saturday/Sunday pair inside the horizon (a lone day counts)."""
        out: list[tuple[int, ...]] = []
        for d in range(self.num_days):
            if (self.start_date.weekday() + d) % 7 == 5:  # Saturday
                out.append(tuple(x for x in (d, d + 1) if x < self.num_days))
        if (self.start_date.weekday()) % 7 == 6:  # horizon starts on a Sunday
            out.insert(0, (0,))
        return tuple(out)


def _text(el: ET.Element | None, what: str) -> str:
    if el is None or el.text is None:
        raise InvalidProblem(f"{what}: missing")
    return el.text.strip()


def _int(el: ET.Element | None, what: str) -> int:
    raw = _text(el, what)
    try:
        return int(raw)
    except ValueError:
        raise InvalidProblem(f"{what}: {raw!r} is not an integer") from None


def _clock(raw: str, what: str) -> int:
    try:
        hours, minutes = raw.split(":")[:2]
        return int(hours) * 60 + int(minutes)
    except ValueError:
        raise InvalidProblem(f"{what}: {raw!r} is not a time H:M") from None


def _parse_contract(el: ET.Element) -> dict[str, object]:
    cid = el.get("ID", "?")
    out: dict[str, object] = {}
    max_tot: dict[str, int] = {}
    for child in el:
        tag = child.tag
        if tag == "MinRestTime":
            out["min_rest_minutes"] = _int(child, f"contract {cid} MinRestTime")
        elif tag in ("MaxSeq", "MinSeq", "MaxTot"):
            value = int(child.get("value", "x"))
            shift = child.get("shift", "")
            if tag == "MaxTot":
                max_tot[shift] = value
            elif tag == "MaxSeq" and shift == ANY_SHIFT:
                out["max_consecutive_shifts"] = value
            elif tag == "MinSeq" and shift == ANY_SHIFT:
                out["min_consecutive_shifts"] = value
            elif tag == "MinSeq" and shift == DAY_OFF:
                out["min_consecutive_days_off"] = value
            else:
                raise InvalidProblem(f"contract {cid}: unsupported {tag} on shift {shift!r}")
        elif tag == "Workload":
            for tu in child.iter("TimeUnits"):
                for bound in tu:
                    key = {"Max": "max_total_minutes", "Min": "min_total_minutes"}.get(bound.tag)
                    if key is None:
                        raise InvalidProblem(f"contract {cid}: unsupported Workload {bound.tag}")
                    out[key] = _int(bound.find("Count"), f"contract {cid} Workload {bound.tag}")
        elif tag == "Patterns":
            for match in child.iter("Match"):
                max_el = match.find("Max")
                if max_el is None or match.find("Min") is not None:
                    raise InvalidProblem(f"contract {cid}: only Max pattern matches are supported")
                patterns = set()
                for pat in match.iter("Pattern"):
                    start = _text(pat.find("StartDay"), f"contract {cid} Pattern StartDay")
                    shifts = tuple(_text(s, "Pattern Shift") for s in pat.findall("Shift"))
                    if start != "Saturday":
                        raise InvalidProblem(f"contract {cid}: pattern on {start} unsupported")
                    patterns.add(shifts)
                if patterns != _WEEKEND_PATTERNS:
                    raise InvalidProblem(
                        f"contract {cid}: only the worked-weekend pattern set is supported"
                    )
                out["max_weekends"] = _int(max_el.find("Count"), f"contract {cid} Max weekends")
        elif tag == "ValidShifts":
            out["valid_shifts"] = frozenset(
                s.strip() for s in child.get("shift", "").split(",") if s.strip()
            )
        else:
            raise InvalidProblem(f"contract {cid}: unsupported element {tag}")
    if max_tot:
        out["max_shifts_per_type"] = max_tot
    return out


def _merge(cid_list: tuple[str, ...], parts: Mapping[str, dict[str, object]], emp: str) -> Contract:
    merged: dict[str, object] = {}
    max_tot: dict[str, int] = {}
    for cid in cid_list:
        if cid not in parts:
            raise InvalidProblem(f"employee {emp}: unknown contract {cid}")
        for key, value in parts[cid].items():
            if key == "max_shifts_per_type":
                if not isinstance(value, dict):  # pragma: no cover - built above as a dict
                    raise TypeError(key)
                for s, v in value.items():
                    max_tot[s] = min(v, max_tot.get(s, v))
            elif key in merged:
                raise InvalidProblem(f"employee {emp}: rule {key} set by two contracts")
            else:
                merged[key] = value
    return Contract(
        max_shifts_per_type=MappingProxyType(max_tot),
        **merged,  # type: ignore[arg-type]
    )


def parse_curtois(xml_text: str, *, name: str = "instance") -> CurtoisInstance:
    """Parse the text of one `.ros` file (CRLF or LF)."""
    root = ET.fromstring(xml_text)  # noqa: S314 - local benchmark files, not network input
    start = date.fromisoformat(_text(root.find("StartDate"), "StartDate"))
    end = date.fromisoformat(_text(root.find("EndDate"), "EndDate"))
    if end < start:
        raise InvalidProblem(f"{name}: EndDate {end} before StartDate {start}")
    num_days = (end - start).days + 1

    shift_types: list[ShiftType] = []
    for el in root.iterfind("ShiftTypes/Shift"):
        sid = el.get("ID", "")
        shift_types.append(
            ShiftType(
                id=sid,
                start_minute=_clock(_text(el.find("StartTime"), f"shift {sid}"), f"shift {sid}"),
                duration=_int(el.find("Duration"), f"shift {sid} Duration"),
            )
        )
    shift_ids = {s.id for s in shift_types}

    parts = {el.get("ID", ""): _parse_contract(el) for el in root.iterfind("Contracts/Contract")}
    employees: list[Employee] = []
    for el in root.iterfind("Employees/Employee"):
        eid = el.get("ID", "")
        cids = tuple(_text(c, f"employee {eid} ContractID") for c in el.findall("ContractID"))
        employees.append(Employee(id=eid, contract_ids=cids, contract=_merge(cids, parts, eid)))
    emp_ids = {e.id for e in employees}

    def check_ref(emp: str, day: int, shift: str, what: str) -> None:
        if emp not in emp_ids:
            raise InvalidProblem(f"{what}: unknown employee {emp}")
        if not 0 <= day < num_days:
            raise InvalidProblem(f"{what}: day {day} outside the horizon")
        if shift != DAY_OFF and shift not in shift_ids:
            raise InvalidProblem(f"{what}: unknown shift {shift}")

    fixed: list[FixedAssignment] = []
    for el in root.iterfind("FixedAssignments/Employee"):
        emp = _text(el.find("EmployeeID"), "FixedAssignments EmployeeID")
        for a in el.findall("Assign"):
            fa = FixedAssignment(
                employee=emp,
                day=_int(a.find("Day"), "Assign Day"),
                shift=_text(a.find("Shift"), "Assign Shift"),
            )
            check_ref(fa.employee, fa.day, fa.shift, "fixed assignment")
            fixed.append(fa)

    def requests(path: str) -> tuple[ShiftRequest, ...]:
        out: list[ShiftRequest] = []
        for el in root.iterfind(path):
            r = ShiftRequest(
                employee=_text(el.find("EmployeeID"), f"{path} EmployeeID"),
                day=_int(el.find("Day"), f"{path} Day"),
                shift=_text(el.find("Shift"), f"{path} Shift"),
                weight=int(el.get("weight", "1")),
            )
            check_ref(r.employee, r.day, r.shift, path)
            out.append(r)
        return tuple(out)

    cover: list[Cover] = []
    for dsc in root.iterfind("CoverRequirements/DateSpecificCover"):
        day = _int(dsc.find("Day"), "DateSpecificCover Day")
        for c in dsc.findall("Cover"):
            shift = _text(c.find("Shift"), "Cover Shift")
            check_ref(employees[0].id if employees else "", day, shift, "cover")
            mn, mx = c.find("Min"), c.find("Max")
            cover.append(
                Cover(
                    day=day,
                    shift=shift,
                    min=None if mn is None else _int(mn, "Cover Min"),
                    min_weight=0 if mn is None else int(mn.get("weight", "1")),
                    max=None if mx is None else _int(mx, "Cover Max"),
                    max_weight=0 if mx is None else int(mx.get("weight", "1")),
                )
            )
    if root.find("CoverRequirements/DayOfWeekCover") is not None:
        raise InvalidProblem(f"{name}: DayOfWeekCover is not supported")

    return CurtoisInstance(
        name=name,
        start_date=start,
        end_date=end,
        shift_types=tuple(shift_types),
        employees=tuple(employees),
        fixed=tuple(fixed),
        on_requests=requests("ShiftOnRequests/ShiftOn"),
        off_requests=requests("ShiftOffRequests/ShiftOff"),
        cover=tuple(cover),
    )


def read_curtois(path: str | Path) -> CurtoisInstance:
    """Read one `.ros` file; the instance is named after the file stem."""
    p = Path(path)
    return parse_curtois(p.read_text(encoding="utf-8"), name=p.stem)
