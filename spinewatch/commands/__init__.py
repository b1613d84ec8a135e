"""Sub-commands of the ``spinewatch`` CLI, one module each (see spinewatch.cli)."""
