"""transactions commands."""
