"""A CSV file read as it arrives: bytes in, records out, holding no more than one record.

Bytes are decoded incrementally (UTF-8, with or without a byte order mark); bytes that are not
UTF-8 are kept as lone surrogates (`surrogateescape`), so that the row holding them — and only
that row — is reported (`not_utf8`). A file that begins as UTF-16 is refused whole (`Utf16`).
Lines are gathered until their quotes balance (RFC 4180 doubles a quote inside a quoted field,
so an odd count means a field runs on to the next line) and each record is parsed by the `csv`
module on its own. A record that would grow past `MAX_RECORD` characters — an unclosed quote —
ends the reading: nothing after it can be told apart reliably.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass

MAX_RECORD = 64 * 1024


class Utf16(Exception):
    """The file was saved as "Unicode text": UTF-16, which no cell of it can be read as."""


class RecordTooLong(Exception):
    """A record grew past `MAX_RECORD` characters; `line` is where it began."""

    def __init__(self, line: int) -> None:
        super().__init__(f"the row at line {line} is longer than {MAX_RECORD} characters")
        self.line = line


@dataclass(frozen=True, slots=True)
class Parsed:
    """One record: the line it begins on (the header is line 1), and its cells — or why the
    `csv` module could not read it."""

    line: int
    cells: list[str]
    error: str | None = None


class Reader:
    """Feed it the file's bytes as they come; it hands back each record once complete."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="surrogateescape")
        self._partial = ""  # a line not yet ended
        self._record: list[str] = []
        self._size = 0
        self._quotes = 0
        self._next_line = 1
        self._begins = 1

    def feed(self, chunk: bytes, *, final: bool = False) -> Iterator[Parsed]:
        lines = (self._partial + self._decoder.decode(chunk, final)).split("\n")
        tail = lines.pop()  # after the last newline: a line still arriving, unless at the end
        self._partial = "" if final else tail
        whole = [line + "\n" for line in lines] + ([tail] if final and tail else [])
        for line in whole:
            found = self._line(line)
            if found is not None:
                yield found
        if final and self._record:  # an unclosed quote at the very end
            yield self._parse()

    def _line(self, line: str) -> Parsed | None:
        if self._next_line == 1 and _utf16(line):
            raise Utf16
        if not self._record:
            self._begins = self._next_line
        self._next_line += 1
        self._record.append(line)
        self._size += len(line)
        self._quotes += line.count('"')
        if self._size > MAX_RECORD:
            raise RecordTooLong(self._begins)
        if self._quotes % 2:
            return None
        return self._parse()

    def _parse(self) -> Parsed:
        record, self._record, self._size, self._quotes = self._record, [], 0, 0
        try:
            cells = next(csv.reader(record, strict=True), [])
        except csv.Error as error:
            return Parsed(self._begins, [], str(error))
        return Parsed(self._begins, cells)


def not_utf8(cells: list[str]) -> bool:
    """Whether a cell holds bytes that were not UTF-8 (decoded as lone surrogates)."""
    for cell in cells:
        try:
            cell.encode("utf-8")
        except UnicodeEncodeError:
            return True
    return False


def _utf16(first: str) -> bool:
    """The first line, read as UTF-8, of a UTF-16 file: its byte order mark as two bytes that
    are not UTF-8 (`surrogateescape`), or, without one, NULs between its ASCII letters."""
    return first.startswith(("\udcff\udcfe", "\udcfe\udcff")) or "\x00" in first
