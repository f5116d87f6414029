"""The suite's pytest plugin (target, rule metadata, recording); see transfer_conformance."""

from transfer_conformance.plugin.fixtures import *  # noqa: F403 - hooks and fixtures by name
