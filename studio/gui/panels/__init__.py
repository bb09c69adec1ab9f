"""Dockable panels: surface editor, optimizer list, playback bar."""
