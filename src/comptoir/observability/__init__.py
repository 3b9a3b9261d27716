"""Operations: metrics, request logs, answers when the database is away."""
