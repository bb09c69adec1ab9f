"""One module per `studio` subcommand; `COMMANDS` is the order `studio --help` lists them."""

from studio.commands import gui, presets

COMMANDS = [gui, presets]
