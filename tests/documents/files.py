"""Small files of each type, made in memory, for the document tests."""

import io
import zipfile

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
TEXT = b"Letter from the speech therapist about Ozymandias Pembe\n"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as container:
        container.writestr("[Content_Types].xml", "<Types/>")
        container.writestr("word/document.xml", "<w:document>Assessment</w:document>")
    return out.getvalue()


def plain_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as container:
        container.writestr("notes.txt", "not a document")
    return out.getvalue()


def pdf_of(size: int) -> bytes:
    """A PDF-signed file of `size` bytes with content that is easy to find."""
    body = (b"Quillonweft assessment line " * (size // 28 + 1))[: size - len(PDF)]
    return PDF + body
