"""The suites are loaded with the run's plugins (`transfer-conformance run` hands them to pytest);
this file only marks the folder as the suites' root."""
