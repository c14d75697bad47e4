"""Bundled resources (fine-tuned models with model cards, sample documents).

Installed as the package ``answerspan_resources``; see ``assistant.nlp.models`` for lookup.
"""
