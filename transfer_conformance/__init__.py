"""Contract and conformance suite for the LivePerson Chat Agent API method Transfer a Chat."""

__version__ = "0.1.0"
