"""``python -m decontam`` runs the command line."""

from .cli import entry

entry()
