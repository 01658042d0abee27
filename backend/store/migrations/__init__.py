"""Alembic migrations of the syncboard schema (``backend/store/schema.py``).

``env.py`` is Alembic's entry point; ``versions/`` holds one revision per schema change, the
first (``0001_baseline``) equal to the schema every database had before Alembic.
``backend.store.migrate`` runs them at start-up and for ``python -m backend migrate``.

Changing the schema:

1. Change ``schema.py``, then write the revision (``alembic.ini`` shows the ``alembic
   revision --autogenerate`` command; check what it wrote, it misses renames). Give it the
   next number (``000N_<what>``) as ``revision`` and the current head as ``down_revision``.
2. It runs inside the one upgrade transaction (SQLite too) on a connection with foreign keys
   off: no statement that commits by itself. On SQLite, change a table with
   ``op.batch_alter_table`` (a copy, drop and rename); for ``board_updates`` pass
   ``table_kwargs={"sqlite_autoincrement": True}`` or ``seq`` values could be reused (the
   copy also resets ``sqlite_sequence`` to the highest ``seq`` left, so compacted ones can
   come back). A copy rewrites every row: where the stored rows stay valid as they are (a
   declared VARCHAR length, which SQLite does not enforce), edit the table text in
   ``sqlite_master`` instead, as ``0002_board_names`` does.
3. Keep the previous release working on the new schema (add, do not drop or rename in the
   same release): processes behind a load balancer are rolled one at a time after it ran.
4. Test it: ``tests/upgrade/test_migrations.py::test_the_head_revision_matches_schema_py``
   fails until revision and ``schema.py`` agree; add an upgrade test from a database written
   by the previous release (``tests/upgrade/make_fixture_db.py --code <previous checkout>``),
   on SQLite and PostgreSQL, and update ``test_the_migrations_have_one_head...``.
"""
