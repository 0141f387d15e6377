"""The one exception every part raises for bad input or a failing tool (no imports: the
launcher needs it before anything else loads)."""


class PolicycheckError(Exception):
    """A usage, configuration, render or tool error: one line for stderr, exit code 2."""
