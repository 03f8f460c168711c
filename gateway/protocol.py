"""The published contract, exported into `protocol/`: a JSON Schema per integration event and
the GraphQL SDL. `muni protocol export` writes them; `muni protocol check` (and the contract
tests) fail when the code no longer matches them, and say whether the change breaks readers.

Compatibility rule for an event type at a major version: every property a reader may rely on
stays, with the same schema. Adding properties is compatible (readers are tolerant); removing,
renaming or retyping one needs a new major version (a new class `<Fact>V<n+1>` and topic).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.schema import build_schema
from gateway.services import SPECS

if TYPE_CHECKING:
    from kernel.events import IntegrationEvent

PROTOCOL_DIR = Path(__file__).resolve().parent.parent / "protocol"
PUBLISHED: tuple[type[IntegrationEvent], ...] = tuple(e for s in SPECS for e in s.publishes)


def event_schemas() -> dict[str, dict[str, Any]]:
    """File name (`<type>.v<version>.json`) -> JSON Schema of the event's payload."""
    out = {}
    for cls in PUBLISHED:
        type_ = cls.model_fields["type"].default
        version = cls.model_fields["version"].default
        schema = cls.model_json_schema(mode="serialization")
        for key in ("type", "version"):  # they travel in the envelope, not the payload
            schema["properties"].pop(key, None)
            if key in schema.get("required", []):
                schema["required"].remove(key)
        out[f"{type_}.v{version}.json"] = schema
    return out


def graphql_sdl() -> str:
    return build_schema().as_str() + "\n"


def render() -> dict[str, str]:
    files = {
        f"events/{name}": json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in event_schemas().items()
    }
    files["graphql/schema.graphql"] = graphql_sdl()
    return files


def export(root: Path = PROTOCOL_DIR) -> list[Path]:
    written = []
    for name, text in render().items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written.append(path)
    return written


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What a reader of `old` would lose in `new` (empty when compatible)."""
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for prop, spec in old_props.items():
        if prop not in new_props:
            problems.append(f"property {prop!r} was removed")
        elif new_props[prop] != spec:
            problems.append(f"property {prop!r} changed from {spec} to {new_props[prop]}")
    if old.get("$defs") != new.get("$defs") and old.get("$defs"):
        problems.append("shared definitions ($defs) changed")
    return problems


def check(root: Path = PROTOCOL_DIR) -> list[str]:
    """Differences between the code and `protocol/`, each explained; empty when in step."""
    problems = []
    rendered = render()
    for name, text in rendered.items():
        path = root / name
        if not path.exists():
            problems.append(f"{name} is new: run `muni protocol export` and commit it")
            continue
        committed = path.read_text()
        if committed == text:
            continue
        if name.startswith("events/"):
            breaks = breaking_changes(json.loads(committed), json.loads(text))
            if breaks:
                problems.append(
                    f"{name}: BREAKING for readers ({'; '.join(breaks)}); publish a new major "
                    "version instead of changing this one"
                )
                continue
        problems.append(f"{name} changed compatibly: run `muni protocol export` and commit it")
    for path in sorted((root / "events").glob("*.json")):
        if f"events/{path.name}" not in rendered:
            problems.append(
                f"events/{path.name} is no longer produced: readers may depend on it; keep "
                "producing it until they move, then delete the file"
            )
    return problems
