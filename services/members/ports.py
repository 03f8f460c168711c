"""The personal-data port: where the accounts code hands readable personal data.

Sign-up hands over the display name and the email or phone as the member wrote them (in normal
form); a dispatcher recording consent hands over what the member said. None of it is put in an
event: events keep only keyed hashes and pseudonymous ids. The personal-data work (a vault
with a key per member, export, erasure) implements this port and sets it on the `Members`
application (`Members.personal_data`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

Detail = Literal["display_name", "email", "phone", "consent_statement"]


class PersonalDataPort(Protocol):
    def keep(self, member_id: str, details: Mapping[Detail, str]) -> None:
        """Keep these details of `member_id` (replacing earlier values of the same detail).

        Called after the events that refer to the member are stored. Blocking.
        """
        ...


class NotKept:
    """Until the vault lands: keeps nothing, says so once per detail kind (never the value)."""

    def __init__(self) -> None:
        self._said: set[str] = set()

    def keep(self, member_id: str, details: Mapping[Detail, str]) -> None:
        for detail in details:
            if detail not in self._said:
                self._said.add(detail)
                log.info("no personal-data vault wired: %s is not kept", detail)
