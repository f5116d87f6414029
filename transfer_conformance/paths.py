"""Where the project's data lives. The suite runs from its checkout (an editable install)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
OPENAPI = SPECS / "chat-agent-api.yaml"
XSD = SPECS / "chat-agent-api.xsd"
RULES = SPECS / "rules.yaml"
EXAMPLES = SPECS / "examples"
TARGETS = ROOT / "targets"
SUITES = ROOT / "suites"
REPORTS = ROOT / "reports"
