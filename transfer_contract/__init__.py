"""The contract, the bottom layer: the OpenAPI reading and its XSD, the rule catalogue, the test
vectors, the XML codec and where that data lives. It imports nothing of the project's; the
strategies and the reference target stand on it, and the harness on all three."""
