"""Tests for codex; a package so helpers import as ``tests.mock_model``."""
