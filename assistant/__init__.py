"""Answerspan: an offline assistant that answers questions from your documents with exact spans."""

__version__ = "0.1.0"
