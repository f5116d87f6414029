"""The pytest room: the run options, the fixtures, Allure labels and steps, each test's result,
and the end of the run, each a plugin that owns its own hooks."""
