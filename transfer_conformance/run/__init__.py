"""The run room: the typed run model (summary, outcomes, verdicts, exit code), known issues and
the HTML report. What a finished run is, read the same way by every command."""
