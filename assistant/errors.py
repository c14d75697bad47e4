"""One root exception for the assistant; subclasses carry a message fit to show a user."""

from __future__ import annotations


class AssistantError(Exception):
    """Root of every error the assistant raises on purpose; ``str(err)`` is user-readable."""


class ConfigError(AssistantError):
    """A setting is invalid (bad path, out-of-range number)."""


class ModelNotFoundError(AssistantError):
    """A model directory or id could not be found or loaded."""


class DataFormatError(AssistantError):
    """A training or evaluation file is not in a format we can read."""
