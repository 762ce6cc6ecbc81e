"""respserver: a Redis-protocol server on Trio, with QUERY over indexed hashes."""

from respserver.server import RunningServer, ServerThread, open_server, serve

__version__ = "0.1.0"
__all__ = ["RunningServer", "ServerThread", "open_server", "serve", "__version__"]
