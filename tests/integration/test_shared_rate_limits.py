"""Gateway replicas count rate limits together when they share a Redis (`MUNI_RATE_LIMIT_STORAGE=
redis://...`): a flood spread over two replicas is refused as it would be by one. With the
default in-memory counts, each replica counts alone (shown too, so the test can tell them apart).
"""

from __future__ import annotations

import uuid

import pytest

from gateway.limits import LIMITS, RateLimited, RateLimiter

pytestmark = pytest.mark.integration

# signIn: at most 5 a minute per account, wherever they come from (gateway/limits.py).
PER_ACCOUNT = 5


def _tries(replicas: list[RateLimiter], login: str, n: int) -> list[bool]:
    """n sign-in attempts for one login, alternating between the replicas: True if admitted."""
    admitted = []
    for i in range(n):
        refused = replicas[i % len(replicas)].check(
            "signIn",
            address=f"10.0.0.{i}",  # every try from another address: only the account counts
            member=None,
            arguments={"login": login, "password": "guess"},
        )
        admitted.append(refused is None)
        if refused is not None:
            assert isinstance(refused, RateLimited)
            assert refused.retry_after_seconds >= 1
    return admitted


def test_two_replicas_sharing_redis_refuse_a_spread_out_flood(redis_url: str) -> None:
    a, b = RateLimiter(LIMITS, redis_url), RateLimiter(LIMITS, redis_url)
    login = f"{uuid.uuid4().hex}@example.org"

    admitted = _tries([a, b], login, PER_ACCOUNT + 3)

    assert admitted == [True] * PER_ACCOUNT + [False] * 3


def test_replicas_counting_in_memory_each_admit_the_limit(redis_url: str) -> None:
    a, b = RateLimiter(LIMITS, "memory://"), RateLimiter(LIMITS, "memory://")
    login = f"{uuid.uuid4().hex}@example.org"

    admitted = _tries([a, b], login, PER_ACCOUNT + 3)

    assert admitted == [True] * (PER_ACCOUNT + 3)  # 4 on each: neither has seen 5
