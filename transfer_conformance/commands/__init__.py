"""The commands: one module per `transfer-conformance` command, its parser and its body
together; none imports another."""
