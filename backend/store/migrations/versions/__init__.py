"""One Alembic revision per schema change, oldest first (``0001_baseline`` has no parent)."""
