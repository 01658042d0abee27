"""Board names: which are refused, and how a name is made safe for tokens, files and headers."""

from __future__ import annotations

import pytest

from backend.access import AccessDenied, Role, TokenSigner
from backend.board_names import (
    MAX_BOARD_NAME_CHARS,
    board_name_problem,
    content_disposition,
    safe_filename,
    token_claim_name,
)

HOSTILE = ["..", ".", "../../etc/passwd", "a/b", "doc.1", "org:42", "my doc", "Zoë",
           'quote"semi;colon', "back\\slash", "日本語", "e" * MAX_BOARD_NAME_CHARS, "~x", "%2F"]


@pytest.mark.parametrize("name", HOSTILE)
def test_names_an_app_may_send_are_boards(name):
    assert board_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "e" * (MAX_BOARD_NAME_CHARS + 1), "nul\x00", "tab\t",
                                  "new\nline", "del\x7f", "c1\x85", "ls\u2028", "ps\u2029",
                                  "bad\udcff"])
def test_empty_long_control_and_undecodable_names_are_refused(name):
    assert board_name_problem(name) is not None


def test_file_names_stay_in_their_folder_ascii_and_distinct():
    names = [*HOSTILE, "a%2Fb", "%2Eb", ".b", "\u00e9" * MAX_BOARD_NAME_CHARS,
             "\u00e9" * (MAX_BOARD_NAME_CHARS - 1) + "f"]
    files = [safe_filename(name, "svg") for name in names]
    assert len(set(files)) == len(files)
    for file in files:
        assert "/" not in file and "\\" not in file and not file.startswith(".")
        assert file.isascii() and len(file.encode()) <= 200
    assert safe_filename("AbC_-9", "png") == "AbC_-9.png"  # app board ids unchanged


def test_download_header_is_ascii_with_the_exact_name_in_utf8():
    header = content_disposition('Zoë "x"/..', "svg")
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="Zo___x__...svg"')
    assert header.endswith("filename*=UTF-8''Zo%C3%AB%20%22x%22%2F...svg")
    assert content_disposition("AbC_-9", "png") == 'attachment; filename="AbC_-9.png"'


@pytest.mark.parametrize("name", HOSTILE)
def test_tokens_of_named_boards_are_one_ascii_word_and_bind_the_name(name):
    signer = TokenSigner(b"secret")
    token = signer.issue(name, Role.EDIT, 3)
    assert token.isascii() and token.count(".") == 2 and " " not in token
    assert signer.verify(token, name, 3).role is Role.EDIT
    with pytest.raises(AccessDenied) as refused:
        signer.verify(token, name + "x", 3)
    assert refused.value.status == 403


def test_app_board_tokens_are_unchanged():
    assert token_claim_name("Ab3_-xYz0123456789abcd") == "Ab3_-xYz0123456789abcd"
    token = TokenSigner(b"secret").issue("Ab3_-xYz0123456789abcd", Role.VIEW, 0)
    assert token.startswith("Ab3_-xYz0123456789abcd.v0.")


def test_a_token_with_a_non_ascii_signature_is_refused_not_a_crash():
    with pytest.raises(AccessDenied) as refused:
        TokenSigner(b"secret").verify("board.e0.sig\u00e9", "board", 0)
    assert refused.value.status == 401
