"""Where the contract's data lives: beside the package when installed from a wheel (package
data), else in the checkout the package was installed from (an editable install)."""

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent


def packaged(name: str, checkout_name: str, package: Path = PACKAGE) -> Path:
    """The data folder ``name`` inside ``package`` when installed, else the checkout's."""
    inside = package / name
    return inside if inside.is_dir() else CHECKOUT / checkout_name


SPECS = packaged("specs", "specs")
OPENAPI = SPECS / "chat-agent-api.yaml"
XSD = SPECS / "chat-agent-api.xsd"
RULES = SPECS / "rules.yaml"
EXAMPLES = SPECS / "examples"
SCHEMAS = SPECS / "schemas"
# The profiles that ship with the suite: the reference (also the simulator's seed), its
# conformant variants, and the staging example. A user's own live in ./targets.
TARGETS = packaged("targets", "targets")
REFERENCE_SEED = TARGETS / "reference.toml"
