"""One module per `studio` subcommand; `COMMANDS` is the order `studio --help` lists them."""

from studio.commands import bench, gui, presets, trace

COMMANDS = [gui, trace, presets, bench]
