"""Property-based: schemathesis drives the live HTTPS agent from its own OpenAPI document.

No response may be a 5xx, and every response must match the document (status, content type, body schema,
declared headers). Faults are disabled on this agent, so a 5xx would be a real defect. Each operation gets
its documented examples, schema-valid cases for company RCC, and schema-violating (negative) cases. It runs
against the simulated backend and against the BOI backend over the fake ProvideX object model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sage_agent.testing import RunningAgent
from tests.agent.conformance.targets import running_target

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_MODE = 15


def test_agent_conforms_to_its_openapi_document(quiet_agent: RunningAgent) -> None:
    exercise_agent(quiet_agent.url, str(quiet_agent.certificate.cert_path), quiet_agent.agent_key, quiet_agent.company)


def test_agent_over_the_boi_backend_conforms_too(tmp_path: Path) -> None:
    with running_target("boi-fake", tmp_path) as target:
        exercise_agent(target.url, str(target.certificate.cert_path), target.agent_key, target.company)


def exercise_agent(url: str, ca_file: str, agent_key: str, company_code: str) -> None:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", verify=ca_file)
    headers = {"X-Agent-Key": agent_key}
    session = requests.Session()
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        company = {"company": company_code} if "{company}" in operation.path else None
        strategies = [
            *schema.get_strategies_from_examples(operation),
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters=company),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_MODE * len(strategies),
            deadline=None,
            suppress_health_check=list(HealthCheck),
            phases=[hypothesis.Phase.generate],
            database=None,
        )
        def exercise(case: Any) -> None:
            case.call_and_validate(base_url=url, session=session, headers=headers, verify=ca_file, checks=CHECKS)

        exercise()
        tested.append(operation.label)
    assert len(tested) == 14
