"""The server's core: its state (configuration, clients, subsystems wired together), dispatch
(the checks every command passes, in Redis's order) and INFO. Synchronous; no Trio."""
