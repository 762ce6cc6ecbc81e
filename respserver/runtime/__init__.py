"""The running server: the owner task, connections, listeners and TLS streams; with the CLI,
the only modules that import Trio."""
