"""Documents attached to records: judged by their bytes, bounded in size, streamed both ways.

A document is accepted only as what its bytes prove — a PDF that pypdf can read to its
`%%EOF`, a PNG or JPEG whose structure Pillow verifies — whatever its name or announced type
claims, so a file that starts `%PDF-` and goes on as HTML is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import IO

import pypdf
from PIL import Image

from resolvers.auth import Caller
from resolvers.errors import Code, invalid
from store import documents, records
from store.database import Database
from store.records import Document

SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
SNIFF_BYTES = 8
MAX_FILENAME = 255
IN_MEMORY = 1024 * 1024  # of a document being checked; the rest spills to a temporary file
PDF_TAIL = 1024  # the last bytes, where a PDF's `%%EOF` must be
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
INLINE = {kind for _, kind in SIGNATURES}

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its complaints are the refusal's reason


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove (PDF, PNG or JPEG), whatever the name claims."""
    return next((kind for magic, kind in SIGNATURES if head.startswith(magic)), None)


def well_formed(content_type: str, content: IO[bytes]) -> bool:
    """Whether the bytes are a whole document of the type their first bytes claim, as read
    by a parser of the format (a few milliseconds; run off the event loop)."""
    content.seek(0)
    try:
        if content_type == "application/pdf":
            content.seek(-min(PDF_TAIL, _size(content)), 2)
            if b"%%EOF" not in content.read():
                return False
            content.seek(0)
            return len(pypdf.PdfReader(content, strict=False).pages) > 0
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(content)
            if image.format != IMAGE_FORMATS[content_type]:
                return False
            image.verify()
        return True
    except Exception:
        return False


def _size(content: IO[bytes]) -> int:
    position = content.seek(0, 2)
    content.seek(0)
    return position


def size_text(size: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


def clean_filename(name: str) -> str:
    """A display name safe in a header: no path, no control characters, bounded."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"\r\n').strip()
    return base[:MAX_FILENAME] or "document"


@dataclass
class IncomingFile:
    filename: str
    chunks: AsyncIterator[bytes]


async def store(db: Database, *, org_id: str, file: IncomingFile, limit: int) -> Document:
    """Stream the upload into GridFS; refuse (and leave nothing behind) if it is not a PDF,
    PNG or JPEG by its bytes, or is larger than `limit` bytes."""
    filename = clean_filename(file.filename)
    head = b""
    buffered: list[bytes] = []
    async for chunk in file.chunks:
        head += chunk[: SNIFF_BYTES - len(head)]
        buffered.append(chunk)
        if len(head) >= SNIFF_BYTES:
            break
    content_type = sniff(head)
    if not head:
        raise invalid(Code.INVALID_DOCUMENT, "the document is empty", "document")
    if content_type is None:
        raise invalid(
            Code.INVALID_DOCUMENT, "a document must be a PDF, PNG or JPEG file", "document"
        )
    upload = documents.begin(db, org_id=org_id, filename=filename, content_type=content_type)
    digest, size = hashlib.sha256(), 0
    try:

        async def rest() -> AsyncIterator[bytes]:
            for chunk in buffered:
                yield chunk
            async for chunk in file.chunks:
                yield chunk

        with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY) as copy:
            async for chunk in rest():
                size += len(chunk)
                if size > limit:
                    raise invalid(
                        Code.DOCUMENT_TOO_LARGE,
                        f"a document is at most {size_text(limit)}",
                        "document",
                    )
                digest.update(chunk)
                copy.write(chunk)
                await upload.write(chunk)
            if not await asyncio.to_thread(well_formed, content_type, copy):
                kind = content_type.removeprefix("application/").removeprefix("image/").upper()
                raise invalid(
                    Code.INVALID_DOCUMENT,
                    f"the file starts as a {kind} but is not a readable one",
                    "document",
                )
        file_id = await upload.finish()
    except BaseException:
        await upload.abort()
        raise
    return Document(
        file_id=file_id,
        filename=filename,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


async def open_for(
    db: Database, viewer: Caller, record_id: str
) -> tuple[Document, AsyncIterator[bytes]] | None:
    """A record's document for the learner and their administrators; None for anyone else."""
    record = await records.get(db, org_id=viewer.org_id, id=record_id)
    if record is None or record.document is None:
        return None
    if not viewer.sees(record.learner_id):
        return None
    chunks = await documents.chunks(db, org_id=viewer.org_id, file_id=record.document.file_id)
    return (record.document, chunks) if chunks is not None else None
