"""The customer's own account: recovery, verification, email change."""
