"""Alembic migrations of the syncboard schema (``backend/store/schema.py``).

``env.py`` is Alembic's entry point; ``versions/`` holds one revision per schema change, the
first (``0001_baseline``) equal to the schema every database had before Alembic.
``backend.store.migrate`` runs them at start-up and for ``python -m backend migrate``.
"""
