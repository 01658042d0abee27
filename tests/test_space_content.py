"""What a space reads from a board (backend/space_content.py) and how search queries are cut
into words (backend/store/search.py): pure functions, no server."""

from __future__ import annotations

from pycrdt import Doc, Map, Text

from backend.board_model import BoardContent, normalize_element, read_update
from backend.space_content import searchable_text, thumbnail_options, title_update
from backend.store.search import MAX_TERMS, matching_boards, query_terms


def board(*elements: dict, title: str = "Plan") -> BoardContent:
    return BoardContent({"title": title}, list(elements))


def test_searchable_text_holds_the_title_notes_text_labels_and_frame_names_in_z_order():
    content = board({"type": "sticky", "text": "ship it"}, {"type": "rect", "label": "API"},
                    {"type": "frame", "name": "Sprint 3"}, {"type": "text", "text": ""},
                    {"type": "stroke", "points": [[0, 0]]}, {"type": "text", "text": 7})
    assert searchable_text(content) == ("Plan", "Plan\nship it\nAPI\nSprint 3")
    assert searchable_text(board(title=None)) == ("", "")


def test_title_update_sets_the_title_on_top_of_the_board_and_keeps_its_elements():
    doc = Doc()
    elements = doc.get("elements", type=Map)
    meta = doc.get("meta", type=Map)
    with doc.transaction():
        meta["title"] = "Old"
        elements["n1"] = Map({"type": "sticky", "x": 0.0, "y": 0.0, "w": 10.0, "h": 10.0,
                              "text": Text("keep me")})
    doc.apply_update(title_update(doc.get_update(), "New " + "x" * 300))
    content = read_update(doc.get_update())
    assert content.meta["title"] == ("New " + "x" * 300)[:200]
    assert [e["text"] for e in content.elements] == ["keep me"]


def test_thumbnail_view_is_the_content_box_widened_to_eight_by_five_and_centred():
    for w, h in ((1000.0, 10.0), (10.0, 1000.0)):
        rect = normalize_element("a", {"type": "rect", "x": 100.0, "y": 50.0, "w": w, "h": h})
        options = thumbnail_options(board(rect), 320)
        x, y, width, height = options.region
        assert abs(height / width - 5 / 8) < 1e-9 and abs(options.scale * width - 320) < 1e-9
        assert abs((x + width / 2) - (100 + w / 2)) < 1e-6
        assert abs((y + height / 2) - (50 + h / 2)) < 1e-6
        assert width >= w + 32 and height >= h + 32  # the margin on every side


def test_query_words_are_letters_and_digits_only_lowercased_and_bounded():
    assert query_terms('"Kumquat" OR *release-2026* (x) ü_ber') == \
        ["kumquat", "or", "release", "2026", "x", "ü", "ber"]
    assert query_terms("a " * 50) == ["a"] * MAX_TERMS
    assert query_terms("*** ()") == []
    sqlite = matching_boards("sqlite", ["kum", "2026"]).compile()
    assert sqlite.params == {"q": '"kum"* "2026"*'}
    assert matching_boards("postgresql", ["kum", "2026"]).compile().params == \
        {"q": "kum:* & 2026:*"}
