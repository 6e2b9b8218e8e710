"""Signals of the organisation tree, for apps that keep data derived from paths."""

from django.dispatch import Signal

# Sent after a node move commits, with ``node`` (moved, at its new path) and ``old_path``. Every copied
# path has been rewritten by then; derived data (the appeal roll-ups) is rebuilt by its listener.
tree_moved = Signal()
