"""respserver: a Redis-protocol server on Trio, with QUERY over indexed hashes."""

from respserver.runtime.server import RunningServer, ServerThread, open_server, serve
from respserver.security.tls import TLSConfigError

__version__ = "0.1.0"
__all__ = ["RunningServer", "ServerThread", "TLSConfigError", "open_server", "serve", "__version__"]
