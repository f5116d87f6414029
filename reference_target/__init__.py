"""The embedded reference target: a stateful simulator of the documented API."""
