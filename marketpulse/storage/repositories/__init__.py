"""One repository per PostgreSQL table family; each takes an asyncpg pool."""
