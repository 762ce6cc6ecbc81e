"""Durability: the AOF's and the RDB snapshot's formats (sans-IO), and the code that logs,
fsyncs, rewrites, snapshots and loads (``durability``)."""
