"""Storage: SQLite by default, PostgreSQL optionally."""
