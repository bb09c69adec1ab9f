"""Test set-up shared by every test: none. Qt's is in tests/gui/conftest.py, so the engine,
surface, export and CLI tests import no Qt (docs/architecture.md#tests)."""
