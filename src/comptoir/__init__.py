"""Comptoir: an open-source shop backend on PostgreSQL."""

__version__ = "0.1.0"
