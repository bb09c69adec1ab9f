"""The one exception type that reaches the user as a one-line message.

Every layer raises a subclass of `StudioError` for bad user input (an expression, a scene
file, a CLI value, an unwritable path). The CLI prints it as `studio: error: <message>` and
exits 2; the GUI shows it in a dialog or beside the field. Anything else is a bug.
"""


class StudioError(Exception):
    """A problem with the user's input or environment, with a one-line message."""
