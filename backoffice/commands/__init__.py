"""Command groups of the ``backoffice`` CLI for follow-ups and books (see ``backoffice.cli``)."""
