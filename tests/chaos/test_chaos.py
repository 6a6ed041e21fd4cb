"""The chaos suite's short version (CI): every scenario on a small generated company. Each must end with nothing
lost, nothing doubled, nothing wrong, no secret written anywhere. The long version (the same scenarios on a scaled
company) is ``benchmarks/chaos.py --long``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ml_local.session import LocalStack, local_stack
from sage_agent.simulated.generator import CompanyShape
from tests.chaos.scenarios import HEADER, SCENARIOS, run_scenario

pytestmark = pytest.mark.slow
# The demo company's first sync alone takes minutes on 2 shared cores; CI attacks a company of the same make-up
# (the agent's generator, same seed and mix) at a sixth of its size.
SMALL_COMPANY = CompanyShape(vendors=20, invoices=70, image_share=0.85)


@pytest.fixture(scope="module")
def chaos_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A stack of its own: the secret scan reads every log line, state item and queue message in it."""
    with local_stack(tmp_path_factory.mktemp("chaos-stack")) as running:
        yield running


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_a_scenario_loses_doubles_and_leaks_nothing(
    chaos_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    row = run_scenario(chaos_stack, tmp_path_factory.mktemp(name), SCENARIOS[name], share=0.1, shape=SMALL_COMPANY)
    report = "\n".join([HEADER, row.line(), *row.details()])
    print(report)
    assert row.records > 0
    assert (row.lost, row.doubled, row.wrong, row.leaks) == ([], [], [], []), report
