"""Full-text search of board content in the database: SQLite FTS5 or PostgreSQL text search.

Each space board's searchable text (its title, the text of notes and text elements, shape
and arrow labels, frame names: ``space_content.searchable_text``) is kept in one row per
board by the space indexer, off the sync path. The index is dialect-specific, so its tables
are made by revisions ``0006_spaces`` and ``0007_search_no_pending_list`` and are not
part of ``schema.metadata`` (``is_search_table`` lets schema comparisons skip them):

- SQLite: the FTS5 virtual table ``board_text_fts(board_id UNINDEXED, body)`` with the
  ``unicode61`` tokenizer (diacritics folded), and its shadow tables ``board_text_fts_*``;
- PostgreSQL: ``board_text(board_id, body, tsv)`` where ``tsv`` is a generated
  ``to_tsvector('simple', body)`` column under the GIN index ``ix_board_text_tsv``, with
  ``fastupdate = off`` since revision 0007 (rows written go into the index at once, not into
  a pending list every search reads whole until a VACUUM).

A query is cut into words (letters and digits, at most ``MAX_TERMS`` of ``MAX_TERM_CHARS``);
every word must match, each as a prefix, so "stick" finds "sticky". Words are passed as bound
parameters of one query string built here from those characters only: nothing a user types
reaches the FTS syntax unquoted.
"""

from __future__ import annotations

import re

from sqlalchemy import String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TextualSelect

MAX_TERMS = 8
MAX_TERM_CHARS = 64
MAX_BODY_CHARS = 200_000
"""Searchable text kept per board; the rest of a larger board is not indexed."""

_WORD = re.compile(r"[^\W_]+")
_SQLITE_TABLE = "board_text_fts"
_PG_TABLE = "board_text"


def is_search_table(name: str) -> bool:
    """Whether ``name`` is one of the full-text index's tables (not in ``schema.metadata``)."""
    return name in (_PG_TABLE, _SQLITE_TABLE) or name.startswith(_SQLITE_TABLE + "_")


def query_terms(query: str) -> list[str]:
    """The words of a search query, lower-cased, as the index will match them."""
    return [word[:MAX_TERM_CHARS].lower() for word in _WORD.findall(query)][:MAX_TERMS]


async def write_text(conn: AsyncConnection, board_id: str, body: str) -> None:
    """Replace the indexed text of ``board_id`` (inside the caller's transaction)."""
    await delete_text(conn, board_id)
    table = _SQLITE_TABLE if conn.dialect.name == "sqlite" else _PG_TABLE
    await conn.execute(text(f"INSERT INTO {table} (board_id, body) VALUES (:b, :body)"),
                       {"b": board_id, "body": body[:MAX_BODY_CHARS]})


async def delete_text(conn: AsyncConnection, board_id: str) -> None:
    """Remove ``board_id`` from the index."""
    table = _SQLITE_TABLE if conn.dialect.name == "sqlite" else _PG_TABLE
    await conn.execute(text(f"DELETE FROM {table} WHERE board_id = :b"), {"b": board_id})


def matching_boards(dialect: str, terms: list[str]) -> TextualSelect:
    """A select of the ``board_id`` of every indexed board whose text holds all ``terms``
    (each as a prefix); use as ``column.in_(...)``. ``terms`` come from ``query_terms``."""
    if dialect == "sqlite":
        match = " ".join(f'"{term}"*' for term in terms)
        statement = text(f"SELECT board_id FROM {_SQLITE_TABLE} WHERE {_SQLITE_TABLE} MATCH :q")
    else:
        match = " & ".join(f"{term}:*" for term in terms)
        statement = text(f"SELECT board_id FROM {_PG_TABLE} "
                         "WHERE tsv @@ to_tsquery('simple', :q)")
    return statement.bindparams(bindparam("q", match)).columns(board_id=String)
