"""Target profiles and known-issues files: what they accept, and clear errors for the rest."""

import pytest

from transfer_conformance.errors import ConfigError
from transfer_conformance.run.known_issues import load_known_issues
from transfer_conformance.run.summary import Result
from transfer_conformance.target_api.api import client_for
from transfer_conformance.target_api.profile import load_profile

STAGING = """
name = "staging"
base_url = "https://staging.example"
account_id = "1"
visitor_app_key_env = "TC_TEST_APP_KEY"
visitor_skill = "Sales"
[agents.transferring]
username = "a"
password_env = "TC_TEST_PW_A"
id = 1
[agents.receiving]
username = "b"
password_env = "TC_TEST_PW_B"
id = 2
[skills]
available = 1
unavailable = 2
unknown = 3
unknown_agent = 4
[decisions."decision-status-unavailable-skill"]
status = 422
"""


LANE = """
[[lanes]]
visitor_skill = "Sales 2"
[lanes.agents.transferring]
username = "c"
password_env = "TC_TEST_PW_A"
id = 11
[lanes.agents.receiving]
username = "d"
password_env = "TC_TEST_PW_B"
id = 12
[lanes.skills]
available = 11
"""


@pytest.fixture
def staging(tmp_path, monkeypatch):
    for name in ("TC_TEST_APP_KEY", "TC_TEST_PW_A", "TC_TEST_PW_B"):
        monkeypatch.setenv(name, f"value-of-{name.lower()}")
    path = tmp_path / "staging.toml"
    path.write_text(STAGING)
    return path


def test_secrets_come_from_the_environment(staging):
    profile = load_profile(str(staging))
    assert profile.agents["transferring"].password == "value-of-tc_test_pw_a"
    assert profile.visitor_app_key == "value-of-tc_test_app_key"
    assert "away" not in profile.agents


def test_a_profile_overrides_a_decision_and_keeps_the_rest(staging):
    profile = load_profile(str(staging))
    assert profile.decision("decision-status-unavailable-skill") == {"status": 422}
    assert profile.decision("decision-body-size-limit") == {"max_bytes": 65536, "status": 413}


def test_must_rules_never_read_a_profile(staging):
    with pytest.raises(KeyError, match="not a decision"):
        load_profile(str(staging)).decision("agent-takes-precedence")


def test_target_url_replaces_every_base_url(staging):
    profile = load_profile(str(staging)).with_url("http://127.0.0.1:8080/")
    assert {profile.base_url, profile.login_url, profile.visitor_url} == {"http://127.0.0.1:8080"}


def test_a_missing_variable_is_named(staging, monkeypatch):
    monkeypatch.delenv("TC_TEST_PW_B")
    with pytest.raises(ConfigError, match="TC_TEST_PW_B"):
        load_profile(str(staging))


def test_every_missing_variable_is_named_at_once(staging, monkeypatch):
    monkeypatch.delenv("TC_TEST_PW_A")
    monkeypatch.delenv("TC_TEST_PW_B")
    with pytest.raises(ConfigError, match=r"TC_TEST_PW_A.*TC_TEST_PW_B"):
        load_profile(str(staging))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda text: text.replace('base_url = "https://staging.example"', 'base_url = "staging"'),
            "not an http",
        ),
        (lambda text: text.replace("unknown_agent = 4\n", ""), "lacks unknown_agent"),
        (
            lambda text: text.replace(
                'base_url = "https://staging.example"', 'base_url = "https://staging.example/api"'
            ),
            r"has a path: give the base URL alone \(https://staging.example\)",
        ),
        (
            lambda text: text + '[decisions."agent-takes-precedence"]\nstatus = 400\n',
            r"\[decisions\]: unknown key 'agent-takes-precedence'",
        ),
        (
            lambda text: text.replace("[agents.receiving]", "[agents.other]"),
            r"\[agents\]: unknown key 'other'",
        ),
        # typos are errors naming the closest key, never silent defaults
        (
            lambda text: "reqest_timeout_s = 5\n" + text,
            "unknown key 'reqest_timeout_s'; did you mean 'request_timeout_s'",
        ),
        (
            lambda text: text.replace("unknown_agent = 4\n", "unknown_agent = 4\navailble = 2\n"),
            "did you mean 'available'",
        ),
        (
            lambda text: text + '[decisions."decision-status-ended-chat"]\nstauts = 422\n',
            "unknown key 'stauts'; did you mean 'status'",
        ),
        (
            lambda text: text + '[decisions."decision-text-characters"]\naccepted = "any_xml"\n',
            'must be one of "any-xml", "documented"',
        ),
        (
            lambda text: text + '[decisions."decision-ids-numeric-strings"]\naccepted = "yes"\n',
            "must be true or false",
        ),
        (lambda text: text + "= broken", "not valid TOML"),
        (lambda text: "concurrency = 2.5\n" + text, "concurrency must be a whole number, not 2.5"),
        (lambda text: "concurrency = 0\n" + text, "concurrency must be between 1 and 32, not 0"),
        (lambda text: 'concurrency = "4"\n' + text, "concurrency must be a number"),
        # lanes: each an agent set of its own, checked like the profile's
        (lambda text: text + LANE.replace('username = "c"', 'username = "a"'), "share agent a"),
        (lambda text: text + LANE.replace("available = 11", "available = 1"), "share skill 1"),
        (lambda text: text + LANE.replace('"Sales 2"', '"Sales"'), "share visitor skill Sales"),
        (lambda text: text + LANE.replace("[lanes.skills]", "[lanes.skils]"), "did you mean 'skills'"),
        (
            lambda text: text + LANE.replace("available = 11", "unknown = 11"),
            r"\[skills\]: unknown key 'unknown'",
        ),
        (lambda text: text + LANE.replace('visitor_skill = "Sales 2"\n', ""), "names its own visitor_skill"),
        (lambda text: text + LANE.replace("[lanes.agents.receiving]", "[lanes.agents.x]"), "unknown key 'x'"),
        (lambda text: "lanes = 2\n" + text, "lanes must be a list of tables"),
    ],
)
def test_a_broken_profile_gets_a_clear_error(staging, edit, message):
    staging.write_text(edit(staging.read_text()))
    with pytest.raises(ConfigError, match=message):
        load_profile(str(staging))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('tracker_url = "https://t.example/browse"\n', "exactly one %s"),
        ('[[issue]]\nrule = "a"\ntest = "b"\nticket = "X-1"\n', "exactly one of rule or test"),
        ('[[issue]]\nrule = "a"\n', "a ticket or muted"),
    ],
)
def test_a_broken_known_issues_file_gets_a_clear_error(tmp_path, text, message):
    path = tmp_path / "known.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_known_issues(path)


def test_known_issue_matches_its_rule_on_its_targets(tmp_path):
    path = tmp_path / "known.toml"
    path.write_text('[[issue]]\nrule = "text-optional"\nticket = "X-1"\ntargets = ["staging"]\n')
    known = load_known_issues(path)
    result = Result("suites/test_text_optional.py::t", "failed", rule="text-optional")
    assert known.find(result, "staging").ticket == "X-1"
    assert known.find(result, "reference") is None


def test_concurrency_is_polite_by_default_and_set_by_the_profile(staging):
    assert load_profile(str(staging)).concurrency == 4
    staging.write_text("concurrency = 1\n" + staging.read_text())
    assert load_profile(str(staging)).concurrency == 1


def test_a_rate_limited_profile_gets_a_client(staging):
    """A profile's requests_per_second builds the client's limiter (pyrate-limiter 4 changed its
    Duration, which once made every rate-limited profile fail at set-up)."""
    staging.write_text("requests_per_second = 0.5\n" + staging.read_text())
    client = client_for(load_profile(str(staging)))
    assert client._limiter is not None


def test_a_lane_is_the_profile_with_its_own_agents_skills_and_share_of_the_rate(staging):
    staging.write_text("requests_per_second = 6\n" + staging.read_text() + LANE)
    profile = load_profile(str(staging))
    assert profile.agent_sets == 2
    own, second = profile.lane(0, 2), profile.lane(1, 2)
    assert own.agents == profile.agents and own.visitor_skill == "Sales"
    assert {login.username for login in second.agents.values()} == {"c", "d"}
    assert second.visitor_skill == "Sales 2" and second.skills["available"] == "11"
    # the account's unavailable and unknown ids are shared
    assert second.skills["unknown_agent"] == profile.skills["unknown_agent"]
    assert own.requests_per_second == second.requests_per_second == 3
    assert profile.requests_per_second == 6 and profile.lanes, "the profile itself is unchanged"
