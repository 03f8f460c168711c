"""The Locust user that bench/graphql_throughput.py runs: posts one GraphQL query back to back.

The query and the optional bearer token come from MUNI_BENCH_QUERY and MUNI_BENCH_TOKEN, so one
user class serves every scenario. An answer counts only if it is HTTP 200 with `data` and without
`errors`: a fast failure must not pass for throughput.
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task


class GraphQLUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.body = {"query": os.environ["MUNI_BENCH_QUERY"]}
        token = os.environ.get("MUNI_BENCH_TOKEN")
        self.headers = {"authorization": f"Bearer {token}"} if token else {}

    @task
    def post_query(self) -> None:
        with self.client.post(
            "/graphql", json=self.body, headers=self.headers, catch_response=True
        ) as response:
            answer = response.json() if response.status_code == 200 else {}
            if response.status_code != 200 or answer.get("errors") or not answer.get("data"):
                response.failure(f"HTTP {response.status_code}: {str(answer)[:200]}")
