"""`Publications`: a service's published events and the one mapping to them, by class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from kernel.events import IntegrationEvent
from kernel.publishing import Publications, UndeclaredEvent


class ThingDoneV1(IntegrationEvent):
    type: Literal["toy.ThingDone"] = "toy.ThingDone"
    version: Literal[1] = 1
    name: str


class SecretV1(IntegrationEvent):
    type: Literal["toy.Secret"] = "toy.Secret"
    version: Literal[1] = 1


@dataclass
class Done:
    name: str


@dataclass
class Leaked:
    pass


@dataclass
class Private:
    pass


PUBLICATIONS = Publications(ThingDoneV1)


@PUBLICATIONS.maps
def _(event: Done) -> IntegrationEvent:
    return ThingDoneV1(name=event.name)


@PUBLICATIONS.maps
def _leak(event: Leaked) -> IntegrationEvent:
    return SecretV1()


def test_a_mapped_event_is_published_and_the_rest_stays_private() -> None:
    assert PUBLICATIONS.events == (ThingDoneV1,)
    assert PUBLICATIONS(Done("x")) == ThingDoneV1(name="x")
    assert PUBLICATIONS(Private()) is None


def test_an_event_the_service_did_not_declare_is_never_published() -> None:
    with pytest.raises(UndeclaredEvent, match="Leaked maps to SecretV1, which is not among"):
        PUBLICATIONS(Leaked())
