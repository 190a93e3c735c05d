"""Reading a CSV file as it arrives: records whole whatever the chunks, bad bytes kept to
their row, an unclosed quote stopping the reading."""

from __future__ import annotations

import pytest

from resolvers.csv_reading import MAX_RECORD, Reader, RecordTooLong, Utf16, not_utf8
from resolvers.spreadsheets import defused, formula_like

FILE = (
    "\ufeffemail,title\r\n"
    'lee@x.test,"two\r\nlines, one ""quoted"""\r\n'
    "\r\n"
    "olu@x.test,Café\r\n"
    "ana@x.test,last line without an end"
).encode()


def read(data: bytes, size: int) -> list:
    reader = Reader()
    found = []
    for start in range(0, len(data), size):
        found += reader.feed(data[start : start + size])
    return found + list(reader.feed(b"", final=True))


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_records_come_whole_whatever_the_chunks(size):
    found = read(FILE, size)
    assert [(p.line, p.cells) for p in found] == [
        (1, ["email", "title"]),  # the byte order mark dropped
        (2, ["lee@x.test", 'two\r\nlines, one "quoted"']),
        (4, []),  # a blank line: its number kept, so later lines count right
        (5, ["olu@x.test", "Café"]),
        (6, ["ana@x.test", "last line without an end"]),
    ]


def test_bytes_that_are_not_utf8_mark_their_row_only():
    found = read(b"a,b\nolu,Caf\xe9\nlee,ok\n", 5)
    assert [not_utf8(p.cells) for p in found] == [False, True, False]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("size", [1, 3, 10_000])
def test_a_utf16_file_is_refused_whole_whatever_the_chunks(encoding, size):
    with pytest.raises(Utf16):
        read("email,title\r\nolu@x.test,Café\r\n".encode(encoding), size)


def test_an_unclosed_quote_stops_the_reading_where_it_began():
    reader = Reader()
    with pytest.raises(RecordTooLong) as raised:
        list(reader.feed(b'a,b\nlee,"open\n' + b"x\n" * MAX_RECORD))
    assert raised.value.line == 2


def test_an_unclosed_quote_at_the_end_is_a_malformed_row():
    (header, last) = read(b'a,b\nlee,"open', 4)
    assert header.cells == ["a", "b"]
    assert last.error is not None


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_cells_are_defused(cell):
    assert formula_like(cell)
    assert defused(cell) == "'" + cell


def test_plain_cells_stay_as_they_are():
    assert defused("Lee Park") == "Lee Park"
    assert defused("") == ""
