"""What a document's bytes are, judged from the bytes themselves.

The declared `Content-Type` of the upload is a claim, not a fact: the type is read from
the file's magic numbers (puremagic), a DOCX from the parts its ZIP container holds, and
plain text from its being UTF-8 with no control characters but tab, line and page
breaks. A file of any other type, or one declared as a type it is not (a PDF sent as
`image/png`, a program sent as `application/pdf`), is refused (415).
"""

import codecs
import hashlib
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO, Final

import puremagic

from app.documents.schemas import MediaType
from app.platform.problems import ContentTooLarge, Unprocessable, UnsupportedMediaType

READ_BYTES: Final = 256 * 1024
"""What one pass reads at a time (the size of a stored chunk, too)."""
HEAD_BYTES: Final = 8192
"""Enough of the start of a file for every accepted type's signature."""
UNDECLARED: Final = frozenset({"", "application/octet-stream"})
"""A declared type that claims nothing: the bytes decide alone."""
_MAGIC: Final = {
    "application/pdf": MediaType.PDF,
    "image/png": MediaType.PNG,
    "image/jpeg": MediaType.JPEG,
}
_DOCX_PARTS: Final = frozenset({"[Content_Types].xml", "word/document.xml"})
_TEXT_CONTROLS: Final = frozenset("\t\n\r\f")
ACCEPTED: Final = ", ".join(m.value for m in MediaType)


@dataclass(slots=True)
class Scan:
    """One pass over the file: its size, digest, first bytes and whether it is text."""

    size: int = 0
    head: bytes = b""
    text: bool = True
    _digest: "hashlib._Hash" = field(default_factory=hashlib.sha256)
    _decoder: codecs.IncrementalDecoder = field(
        default_factory=lambda: codecs.getincrementaldecoder("utf-8")()
    )

    def feed(self, piece: bytes) -> None:
        self.size += len(piece)
        self._digest.update(piece)
        if len(self.head) < HEAD_BYTES:
            self.head += piece[: HEAD_BYTES - len(self.head)]
        if self.text:
            self._read_text(piece, final=False)

    def finish(self) -> None:
        if self.text:
            self._read_text(b"", final=True)

    def _read_text(self, piece: bytes, *, final: bool) -> None:
        try:
            decoded = self._decoder.decode(piece, final=final)
        except UnicodeDecodeError:
            self.text = False
            return
        if any((ch < " " and ch not in _TEXT_CONTROLS) or ch == "\x7f" for ch in decoded):
            self.text = False

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def scan(file: BinaryIO, *, limit: int) -> Scan:
    """Read the file once, from its start (and rewind it): 413 past `limit` bytes, 422
    when empty."""
    file.seek(0)
    found = Scan()
    while piece := file.read(READ_BYTES):
        found.feed(piece)
        if found.size > limit:
            raise ContentTooLarge(f"The file is larger than {limit} bytes.")
    found.finish()
    file.seek(0)
    if found.size == 0:
        raise Unprocessable("file", "is empty")
    return found


def _is_docx(file: BinaryIO) -> bool:
    try:
        with zipfile.ZipFile(file) as container:
            names = set(container.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    finally:
        file.seek(0)
    return names >= _DOCX_PARTS


def detect(file: BinaryIO, scanned: Scan) -> MediaType | None:
    """The accepted type the bytes are, or None."""
    try:
        matches = puremagic.magic_string(scanned.head)
    except puremagic.PureError:
        matches = []
    mime_types = {m.mime_type for m in matches}
    for mime, media_type in _MAGIC.items():
        if mime in mime_types and scanned.head.startswith(_SIGNATURES[media_type]):
            return media_type
    if scanned.head.startswith(b"PK\x03\x04") and _is_docx(file):
        return MediaType.DOCX
    if scanned.text and not matches:
        return MediaType.TEXT
    return None


# The signature each accepted binary type starts with: puremagic names candidates by
# patterns anywhere near the start; a file of ours must begin with its type's own.
_SIGNATURES: Final = {
    MediaType.PDF: b"%PDF-",
    MediaType.PNG: b"\x89PNG\r\n\x1a\n",
    MediaType.JPEG: b"\xff\xd8\xff",
}


def judged(file: BinaryIO, scanned: Scan, declared: str | None) -> MediaType:
    """The file's type: one accepted, and the one declared (unless it declared none)."""
    found = detect(file, scanned)
    if found is None:
        raise UnsupportedMediaType(f"Accepted types: {ACCEPTED}.")
    claimed = (declared or "").split(";", 1)[0].strip().lower()
    if claimed not in UNDECLARED and claimed != found.value:
        raise UnsupportedMediaType("The file's bytes are not of the type it was declared as.")
    return found
