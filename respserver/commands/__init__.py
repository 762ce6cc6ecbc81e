"""Command families; importing this package registers every command in ``registry.COMMANDS``."""

from respserver.commands import (  # noqa: F401
    acl,
    connection,
    hashes,
    hashes_scan,
    keys,
    lists,
    persistence,
    query,
    server,
    strings,
    transactions,
)
