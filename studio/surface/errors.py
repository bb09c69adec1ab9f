"""The error a typed expression (or a surface request) reports back to the user.

Parsing and compiling never raise anything else for bad input: the GUI shows the message
beside the formula field and can put the caret at `column`; the CLI prints it in one line.
"""

from __future__ import annotations

from studio.errors import StudioError


class ExpressionError(StudioError):
    """A formula that cannot be used, with a one-line reason and where it went wrong.

    `column` is 1-based in the text the user typed (not in any rewritten form), or None
    when the problem is not at one place (too long, too complex, a bad parameter).
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column
        super().__init__(f"{message} at column {column}" if column is not None else message)


class UnknownPresetError(StudioError):
    """A surface spec names a preset that does not exist."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"unknown preset '{name}'")
