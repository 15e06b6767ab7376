"""Files people attach: a safe name to keep and show, and whether the bytes are what the name
says (pure: no Django). The allow-list is by extension, and each extension's content is checked
by its first bytes, so an executable renamed ``invoice.pdf`` is refused rather than kept.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

NAME_LIMIT = 120

# extension -> the content type a download carries. Nothing outside this list is ever served
# with a type a browser would run or render as a page (no HTML, no SVG, no script).
CONTENT_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "txt": "text/plain",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
DEFAULT_TYPES = ("pdf", "png", "jpg", "jpeg", "gif", "txt", "csv", "docx", "xlsx", "odt", "ods")

# Programs, whatever their name says: Windows (MZ), Linux (ELF), macOS (Mach-O), scripts.
EXECUTABLE_STARTS = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")
ZIP = b"PK\x03\x04"


def _text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The head may end inside a character: only an error in the last three bytes is allowed.
        return error.start >= len(head) - 3
    return True


SIGNATURES: dict[str, Callable[[bytes], bool]] = {
    "pdf": lambda head: head.startswith(b"%PDF-"),
    "png": lambda head: head.startswith(b"\x89PNG\r\n\x1a\n"),
    "jpg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "jpeg": lambda head: head.startswith(b"\xff\xd8\xff"),
    "gif": lambda head: head.startswith((b"GIF87a", b"GIF89a")),
    "txt": _text,
    "csv": _text,
    "docx": lambda head: head.startswith(ZIP),
    "xlsx": lambda head: head.startswith(ZIP),
    "pptx": lambda head: head.startswith(ZIP),
    "odt": lambda head: head.startswith(ZIP),
    "ods": lambda head: head.startswith(ZIP),
}


def safe_name(name: str) -> str:
    """The name to keep: the last path part only (no folders, so no ``../``), NFC, no control
    or format characters, no characters that are special on common file systems, at most
    ``NAME_LIMIT`` characters with the extension kept. Never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        "_" if ch in '<>:"|?*' else ch
        for ch in name
        if unicodedata.category(ch)[0] != "C"  # Cc control, Cf format (bidi overrides), Cs, Co, Cn
    )
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "file"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return name[:NAME_LIMIT]
    ext = ext[:16]
    return f"{stem[: NAME_LIMIT - len(ext) - 1].rstrip(' .') or 'file'}.{ext}"


def extension(name: str) -> str:
    stem, dot, ext = name.rpartition(".")
    return ext.lower() if dot and stem else ""


def problem(name: str, size: int, head: bytes, *, allowed: tuple[str, ...], max_bytes: int) -> str | None:
    """Why this file cannot be kept, in words with what to do; None when it can. ``head`` is
    the file's first bytes (a few hundred are enough)."""
    if size == 0:
        return f"{name} is empty; attach the file again."
    if size > max_bytes:
        return f"{name} is {_size(size)}; files here take at most {_size(max_bytes)}. Send a smaller file or a link."
    ext = extension(name)
    if ext not in allowed or ext not in CONTENT_TYPES:
        kinds = ", ".join(sorted(allowed))
        return f"{name} is not a kind of file taken here; attach one of: {kinds}."
    if head.startswith(EXECUTABLE_STARTS):
        return f"{name} is a program, not a .{ext} file; programs are never kept."
    if not SIGNATURES[ext](head):
        return f"{name} does not hold what a .{ext} file holds; save it again as a real .{ext} file."
    return None


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if n >= 1024:
        return f"{n // 1024} KB"
    return f"{n} bytes"
