"""Fault tests: crash, restart, reconnect storms, database trouble, hostile bytes."""
