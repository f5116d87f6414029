"""The target room: its profile, how agents log in and out, the documented calls, the scenario
harness the suites drive, and the checks that judge a rule."""
