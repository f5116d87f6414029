import pytest

from transfer_contract.transfer_body import TransferBody, render

pytestmark = pytest.mark.rule("decision-xml-transfer-form")


@pytest.mark.parametrize(
    "body", [TransferBody(agent="receiving"), TransferBody(skill="available")], ids=["agent", "skill"]
)
def test_xml_body_in_the_decided_form_is_accepted(target, rule, body):
    """A transfer in XML with ids in the decided form (element, text or attribute) answers 200."""
    form = target.decision(rule.id)["form"]
    if rule.discovering:
        form = target.xml_form  # the form the harness found this target accepts at set-up
    chat_id = target.open_chat()
    raw, content_type = render(body, target.ids, "xml", form)
    exchange = target.transfer_raw(chat_id, raw, content_type, f"transfer in XML, {form} form")
    if exchange.status == 200:
        rule.observe("form", form, exchange)
    rule.check(
        exchange.status == 200,
        f"200 for the {form} form",
        f"{exchange.status} (the harness uses the {target.xml_form} form: {target.xml_form_source})",
        exchange,
    )
