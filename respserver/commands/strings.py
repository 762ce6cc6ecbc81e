"""strings commands."""
