"""What members write in contributions: a note on logged work (what was done), a reason for a
contest. Free text may be about a person, so it is personal data: kept in the writer's vault
(kernel/personal.py, `data/<city>-contributions.vault.sqlite3`), never in an event or a read
model. Erasing the writer deletes it with their key; the hours, the validations and the contest's
outcome stay under the member's id, for the books.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from contributions.domain import ContributionsError

if TYPE_CHECKING:
    from uuid import UUID

MAX_TEXT = 500
NOTE = "note"  # on logged work
REASON = "contest"  # for contesting a ledger line


class InvalidText(ContributionsError):
    """Text a member wrote that cannot be kept as given: `field` names it; nothing was saved."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def checked(field: str, text: str) -> str:
    """`text` as kept (trimmed), or raises `InvalidText` naming `field`."""
    kept = text.strip()
    if len(kept) > MAX_TEXT:
        raise InvalidText(field, f"at most {MAX_TEXT} characters, got {len(kept)}")
    if any(ord(c) < 32 and c not in "\n\t" for c in kept):
        raise InvalidText(field, "control characters are not allowed")
    return kept


def vault_field(kind: str, about: UUID) -> str:
    """The vault field of one text: its kind and 80 bits of the id it is about (fields are at
    most 32 characters)."""
    return f"{kind}_{about.hex[:20]}"
