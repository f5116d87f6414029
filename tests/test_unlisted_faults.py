"""Regressions outside the fault catalogue, planted by a proxy between the suite and the
reference, are caught by the rule they break: the properties are not tuned to the catalogue."""

import pytest

from reference_target.embedded import EmbeddedReference
from tests.conftest import failed_rules, run_cli
from tests.mutation_proxy import MUTATIONS, MutationProxy

pytestmark = pytest.mark.run

ARGS = ["--strict", "--examples", "4", "--no-shrink", "--no-report"]


@pytest.fixture(scope="module")
def reference():
    with EmbeddedReference() as server:
        yield server


def test_proxy_without_mutation_passes(reference, tmp_path):
    with MutationProxy(reference.url, None) as proxy:
        done = run_cli(
            "run",
            "--target-url",
            proxy.url,
            "--rule",
            "agent-takes-precedence",
            "--rule",
            "transfer-system-message",
            *ARGS,
            "--output",
            str(tmp_path),
        )
    assert done.returncode == 0, done.stdout[-2000:]


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_unlisted_regression_is_caught_by_its_rule(reference, tmp_path, name):
    mutation, rule = MUTATIONS[name]
    with MutationProxy(reference.url, mutation) as proxy:
        done = run_cli("run", "--target-url", proxy.url, "--rule", rule, *ARGS, "--output", str(tmp_path))
    assert done.returncode == 1, f"{name} not caught: {done.stdout[-2000:]}"
    assert rule in failed_rules(tmp_path)
