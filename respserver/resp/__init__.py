"""The wire protocol, sans-IO: requests parsed and validated as Redis does, replies encoded for
RESP2 or RESP3. Imports nothing of respserver's but its error type."""
