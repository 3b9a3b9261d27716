"""Mail: an outbox written in the transaction that causes a mail, and a background sender."""
