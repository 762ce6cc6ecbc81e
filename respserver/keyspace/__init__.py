"""The data: databases of keys and values with their expiry, SCAN cursors, glob patterns."""
