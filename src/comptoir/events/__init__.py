"""Analytics events: ingestion in batches, admin queries, the daily summary, partitions."""
