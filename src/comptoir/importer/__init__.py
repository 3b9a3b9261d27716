"""Moving a legacy Express/JSON store into PostgreSQL (`comptoir import-json`)."""
