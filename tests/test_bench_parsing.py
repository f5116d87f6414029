"""The bench reads the Schemathesis CLI's failures as (operation, code) pairs."""

from transfer_conformance.commands.bench import failure_signatures

CONSOLE = "\n".join(
    [
        "___ POST /api/account/{accountId}/chat/request ___",
        "1. Test Case ID: abc",
        "",
        "- ST202 Schema-valid request rejected",
        "",
        # a heading too long for underscores keeps its spaces around
        " POST /api/account/{accountId}/agentSession/{agentSessionId}/chat/{chatId}/transfer ",
        "- ST101 Server error",
        "- ST103 Undocumented status code",
    ]
)


def test_failures_are_paired_with_their_operation():
    assert failure_signatures(CONSOLE) == [
        "POST /api/account/{accountId}/agentSession/{agentSessionId}/chat/{chatId}/transfer ST101",
        "POST /api/account/{accountId}/agentSession/{agentSessionId}/chat/{chatId}/transfer ST103",
        "POST /api/account/{accountId}/chat/request ST202",
    ]
