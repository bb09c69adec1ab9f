"""One module per `studio` subcommand; `COMMANDS` is the order `studio --help` lists them."""

from studio.commands import bench, gui, presets, render, trace

COMMANDS = [gui, trace, render, presets, bench]
