"""Property-based run over the OpenAPI description: no response ever shows another client's data.

Schemathesis generates requests for every operation of ``/api`` from the schema; hypothesis
then plays them with the token of a user of ALPHA or of BETA, with path ids and query words
taken sometimes from the *other* client's documents. Whatever comes back must not contain the
other client's document ids or titles, and the server must never fail (5xx).
"""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.portal.world import World

FOREIGN = {"alice": "BETA", "bob": "ALPHA"}
WORDS = ["Rechnung", "Zebra", "Müller", "Stadtwerke", "Miete", "4711", "RE-1001", "Muller*"]


def test_openapi_fuzz_never_leaks_other_clients_documents(
    shared_app: FastAPI, shared_world: World
) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", shared_app)
    all_ids = list(shared_world.public.values())
    secrets_of = {
        user: [
            *(shared_world.public[k] for k in [*shared_world.docs_of(code), "unassigned"]),
            *(shared_world.titles[k] for k in [*shared_world.docs_of(code), "unassigned"]),
        ]
        for user, code in FOREIGN.items()
    }
    seen_status: set[int] = set()

    @settings(
        max_examples=120,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=schema.as_strategy(),
        user=st.sampled_from(sorted(FOREIGN)),
        target=st.one_of(st.none(), st.sampled_from(all_ids)),
        word=st.one_of(st.none(), st.sampled_from(WORDS)),
        client=st.one_of(st.none(), st.sampled_from(["ALPHA", "BETA"])),
    )
    def run(case: Any, user: str, target: str | None, word: str | None, client: str | None) -> None:
        if target is not None and case.path_parameters and "document_id" in case.path_parameters:
            case.path_parameters["document_id"] = target
        if case.query is not None and word is not None and "q" in case.query:
            case.query["q"] = word
        if case.query is not None and client is not None and "client" in case.query:
            case.query["client"] = client
        response = case.call(headers={"Authorization": f"Bearer {shared_world.tokens[user]}"})
        seen_status.add(response.status_code)
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
        body = response.content.decode("utf-8", "replace")
        leaked = [s for s in secrets_of[user] if s in body]
        assert not leaked, (case.method, case.formatted_path, case.query, leaked)

    run()
    assert 200 in seen_status and 404 in seen_status
