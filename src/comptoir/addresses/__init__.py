"""Postal addresses: saved on the account, snapshotted on orders."""
