import itertools
from urllib.parse import parse_qsl, urlparse

import pytest
import schemathesis
from hypothesis import given, settings
from schemathesis import GenerationMode

from transfer_conformance.http.client import TargetMisbehaved, plain_session
from transfer_conformance.plugin.state import contract_budget
from transfer_conformance.target_api.auth import authorization
from transfer_conformance.target_api.checks import RuleViolation, message
from transfer_conformance.target_api.harness import decode
from transfer_contract.paths import OPENAPI
from transfer_contract.spec import body_validator, failed_keywords, operations, parameter_problems
from transfer_contract.xmlcodec import XmlBodyError, xsd_codec

# Heavy: Schemathesis' generation caches grow the process by 50 MB and more (lanes keep it in two).
pytestmark = [pytest.mark.rule("openapi-contract"), pytest.mark.heavy]

# Extra, undeclared query parameters are ignored by design (clients add their own, such as
# Postman's cs=1), so Schemathesis must not count them as invalid requests.
SCHEMA = schemathesis.openapi.from_path(
    str(OPENAPI),
    config=schemathesis.Config.from_dict({"generation": {"allow-extra-parameters": False}}),
)
# Login and logout would end the run's own logins; set-up exercises both.
SKIPPED = {"agentLogin", "agentLogout", "agentRefresh"}
OPERATIONS = [op for op in operations() if op not in SKIPPED]
# Bodies that match the schema but name a skill or agent the target refuses by a documented
# rule (unavailable skill, unknown id): a 4xx there is correct, so "schema-valid request
# rejected" does not apply. The properties in the other modules judge those answers.
EXCLUDED = {
    op: [schemathesis.checks.CHECKS.get_one("positive_data_acceptance")]
    for op in ("transferChat", "requestChat")
}
# Schemathesis' ignored_auth check sends each authorized success again, without and with a
# wrong Authorization, through its own session: requests the run's recording never sees, so a
# failure could not show them, and two round trips per case against a far target. The
# bearer-required rule judges the same thing with requests the report shows.
UNRECORDED = [schemathesis.checks.CHECKS.get_one("ignored_auth")]
_BY_ROUTE = {(op.method, op.path): op.operation_id for op in operations().values()}


@schemathesis.deserializer("application/xml")
def xml_through_the_xsd(ctx, response):
    """XML responses are validated against the XSD and decoded to the JSON shape.

    The spec's XML schemas describe the root element's content, so the root is dropped.
    """

    class Answer:
        status = response.status_code
        content = response.content
        content_type = "application/xml"

    operation_id = _BY_ROUTE[(ctx.operation.method.upper(), ctx.operation.path)]
    ((_, content),) = decode(Answer, operation_id).items()
    return content


@schemathesis.check
def location_is_absolute_on_the_request_host(ctx, response, case):
    """A Location header is an absolute URL on the host the request was sent to."""
    location = response.headers.get("location") or response.headers.get("Location")
    if not location:
        return None
    value = location[0] if isinstance(location, list) else location
    sent = urlparse(response.request.url)
    got = urlparse(value)
    if got.scheme not in ("http", "https") or got.netloc != sent.netloc:
        raise AssertionError(f"Location {value!r} is not absolute on {sent.netloc}")
    return True


def negativity_lost_in_xml(sent, case, operation_id):
    """Whether a case meant to be invalid reached the target as a wholly valid request.

    XML cannot carry every invalid value (Schemathesis drops a control character from an XML
    string), so a negative case may arrive valid; a target accepting it is right, and judging
    it on that would be a false positive. Only XML bodies are concerned.
    """
    if "xml" not in str(sent.headers.get("Content-Type", "")):
        return False
    query = dict(parse_qsl(urlparse(sent.url).query, keep_blank_values=True))
    if parameter_problems(operation_id, "query", query) or parameter_problems(
        operation_id, "header", sent.headers
    ):
        return False
    raw = sent.body if isinstance(sent.body, bytes) else str(sent.body or "").encode()
    try:
        decoded = xsd_codec().decode(raw)
    except XmlBodyError:
        return False
    return not failed_keywords(body_validator(operation_id, "request", "application/json"), decoded)


def use_real_ids(case, operation_id, target):
    """Point a generated body at ids the target has, so that positive cases can succeed."""
    body = case.body if isinstance(case.body, dict) else None
    if body is None:
        return
    order = body.get("transfer", body) if operation_id == "transferChat" else None
    if isinstance(order, dict):
        for key, real in (
            ("skill", target.ids.skills["available"]),
            ("agent", target.ids.agents["receiving"]),
        ):
            if isinstance(order.get(key), dict) and "id" in order[key]:
                order[key]["id"] = int(real)
    request_part = body.get("request", body) if operation_id == "requestChat" else None
    if isinstance(request_part, dict) and "skill" in request_part:
        request_part["skill"] = target.profile.visitor_skill


class ContractRun:
    """One operation's Schemathesis cases against the target, with real ids and our recording."""

    def __init__(self, target, rule, operation_id, budget):
        self.target = target
        self.operation_id = operation_id
        self.spec_op = operations()[operation_id]
        self.operation = SCHEMA.find_operation_by_id(operation_id)
        self.budget = budget
        self.session = plain_session(target.api.client.max_response_bytes)
        self.rule = rule
        self.statuses = []
        self.accepts = itertools.cycle(["application/json", "application/xml"])
        # A read changes nothing (GET: the pages document these calls as reads), so the
        # operation's cases share one chat instead of opening one each.
        self.read_chat = ""
        agent = target.transferring
        pinned = {
            "accountId": target.profile.account_id,
            "agentSessionId": agent.session_id,
            "chatId": "pinned-later",
        }
        declared = {
            p.get("name") or p["$ref"].rsplit("/", 1)[-1]
            for p in self.spec_op.definition.get("parameters", [])
        }
        self.path_parameters = {k: v for k, v in pinned.items() if k in declared}

    def run(self, mode):
        strategy = self.operation.as_strategy(generation_mode=mode, path_parameters=self.path_parameters)

        @given(case=strategy)
        @settings(max_examples=self.budget)
        def one_case(case):
            with self.target.example():
                self.call(case, mode)

        one_case()

    def chat(self):
        if self.spec_op.method != "GET":
            return self.target.open_chat()
        if not self.read_chat:
            self.read_chat = self.target.kept_chat()
        return self.read_chat

    def call(self, case, mode):
        target, operation_id = self.target, self.operation_id
        if "chatId" in (case.path_parameters or {}):
            case.path_parameters["chatId"] = self.chat()
        if operation_id == "takeChat":
            target.ring_new_chat()
        if mode == GenerationMode.POSITIVE:
            use_real_ids(case, operation_id, target)
            if operation_id == "getAgentChats":
                # the session's own chats, as the page's client would name them
                keys = [
                    target.open_chat() for _ in range(1 + len((case.query or {}).get("fromEventIds", "")) % 2)
                ]
                case.query = {**(case.query or {}), "chatSessionKeys": ",".join(keys)}
        headers = {"Accept": next(self.accepts)}
        # Each call goes to its own host: the agent API, or the visitor API (conversationVep),
        # which a real account serves elsewhere.
        if self.spec_op.path.startswith("/api/account/{accountId}/agentSession"):
            headers.update(authorization(target.transferring.bearer))
            base_url = target.profile.base_url
        else:
            case.query = {**(case.query or {}), "appKey": target.profile.visitor_app_key}
            base_url = target.profile.visitor_url
        if target.api.client.time_left() <= 0:
            raise TargetMisbehaved(
                f"{operation_id}: not sent, the test's or the run's deadline leaves no time"
            )
        response = case.call(
            base_url=base_url,
            headers=headers,
            session=self.session,
            # Never follow the target elsewhere, and keep to the request's deadline.
            allow_redirects=False,
            timeout=target.api.client.time_left(),
        )
        sent = response.request
        exchange = target.api.client.record_external(
            f"{operation_id} ({mode.value})",
            sent.method,
            sent.url,
            dict(sent.headers),
            sent.body,
            response,
        )
        self.statuses.append(response.status_code)
        location = response.headers.get("location") or response.headers.get("Location")
        if operation_id == "requestChat" and location:
            # A chat the contract run created: the harness ends it with the others.
            value = location[0] if isinstance(location, list) else location
            target.created.append(value.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
        excluded = [*EXCLUDED.get(operation_id, []), *UNRECORDED]
        if mode == GenerationMode.NEGATIVE and negativity_lost_in_xml(sent, case, operation_id):
            excluded.append(schemathesis.checks.CHECKS.get_one("negative_data_rejection"))
        try:
            case.validate_response(response, headers=headers, excluded_checks=excluded)
        except (AssertionError, BaseExceptionGroup) as failure:
            text = message(
                self.rule.id,
                "an answer the spec describes",
                f"{operation_id}: {failure}",
                (exchange,),
            )
            raise RuleViolation(self.rule.id, text) from None
        finally:
            if operation_id == "setAvailability":
                target.api.set_availability(target.transferring, "Online")


@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_operation_answers_as_the_spec_describes(target, rule, operation_id, request):
    """Schemathesis (positive and negative, real ids) finds only answers the spec describes."""
    budget = contract_budget(request.config)
    contract = ContractRun(target, rule, operation_id, budget)
    try:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            contract.run(mode)
    finally:
        target.end_kept()
    if not any(200 <= status < 300 for status in contract.statuses):
        raise RuntimeError(
            f"{operation_id} never answered 2xx in {len(contract.statuses)} calls "
            f"({sorted(set(contract.statuses))}): the suite did not reach it with real ids, "
            "so its contract is not judged"
        )
