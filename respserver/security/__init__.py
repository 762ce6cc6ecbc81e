"""Policies over who may do what and how much: ACL users and rules, TLS contexts, and the
memory model with eviction under maxmemory."""
