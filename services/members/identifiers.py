"""Sign-in identifiers (an email address or a phone number): normalised, then keyed-hashed.

The readable identifier is personal data and never reaches an event. What is kept is an HMAC
of its normal form under the city's identifier key (kernel/keys.py): the same address always
gives the same digest, so it can point to one member, but the digest cannot be reversed, nor
searched for a known address, without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services.members.domain import InvalidMembership

if TYPE_CHECKING:
    from pydantic import SecretStr

Kind = Literal["email", "phone"]


@dataclass(frozen=True)
class Identifier:
    """A normalised identifier. `value` is personal data: hand it only to the personal-data port."""

    kind: Kind
    value: str

    def digest(self, key: SecretStr) -> str:
        return keyed_digest(key, f"{self.kind}:{self.value}")


def keyed_digest(key: SecretStr, text: str) -> str:
    return hmac.new(key.get_secret_value().encode(), text.encode(), hashlib.sha256).hexdigest()


def email(raw: str, *, field: str = "email") -> Identifier:
    """An email address in its normal form: the domain as the library normalises it (IDNA),
    the local part case-folded (no provider Muni's members use treats case as meaningful)."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidMembership(field, "is not an email address") from None
    return Identifier("email", f"{checked.local_part.casefold()}@{checked.domain.casefold()}")


def phone(raw: str, *, region: str | None, field: str = "phone") -> Identifier:
    """A phone number in E.164 (`+32470123456`); without a + prefix it is read in `region`."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        hint = "" if region else " (write it with its +country prefix)"
        raise InvalidMembership(field, f"is not a phone number{hint}")
    return Identifier(
        "phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    )


def login(raw: str, *, region: str | None) -> Identifier:
    """An email or a phone number, told apart by the '@'."""
    if "@" in raw:
        return email(raw, field="login")
    return phone(raw, region=region, field="login")
