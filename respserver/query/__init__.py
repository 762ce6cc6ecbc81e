"""QUERY's engine: the indexes the owner keeps current as a keyspace listener, and their rows."""
