"""Command families; importing this package registers every command in ``registry.COMMANDS``."""

from respserver.commands import (  # noqa: F401
    acl,
    bitmaps,
    connection,
    dump,
    hashes,
    hashes_scan,
    keys,
    lcs,
    lists,
    objects,
    persistence,
    query,
    server,
    sets,
    sort,
    sorted_sets,
    sorted_sets_combine,
    sorted_sets_ranges,
    strings,
    transactions,
)
