"""Signals of the organisation tree, for apps that keep data derived from paths."""

from django.dispatch import Signal

# Sent after a node move commits, with ``node`` (moved, at its new path) and ``old_path``. Every copied
# path has been rewritten by then; derived data (the appeal roll-ups) is rebuilt by its listener.
tree_moved = Signal()

# Sent inside the transaction of the county set-up that starts a new tree, with ``node`` (the new root) and
# ``by`` (the superuser who started it). The accounts app gives that superuser the county administrator's
# role there, so that they can go on setting the county up; the grant commits or rolls back with the tree.
tree_started = Signal()
