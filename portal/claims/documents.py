"""Claim documents: photos and PDFs checked by content, images re-encoded.

Files are medical data (要配慮個人情報): they go to private storage under a new
random key (never the upload's name) and are read back only through the app's
routes, which check who is asking and write an audit row per view.

What is refused, and why:
- anything that is not JPEG, PNG or PDF by its bytes (a renamed text file);
- HEIC as sent: iPhones convert photos to JPEG when the file input accepts only
  JPEG/PNG/PDF, which the forms do, so a HEIC here came from elsewhere;
- files over MAX_FILE_BYTES and images over MAX_PIXELS (decompression bombs);
- polyglots: an image with another format after its end marker or markup inside, a PDF
  that does not start at byte 0, carries markup, or has scripts, launch actions
  or embedded files. Re-encoding would neutralise an image polyglot anyway; it
  is refused so that nobody keeps a file that was crafted.
Images are decoded and saved again: EXIF (with GPS) and every other metadata
block are dropped, the photo is turned upright first.

Memory stays bounded whatever the file: the upload is copied in pieces to a
temporary file on disk (refused past MAX_FILE_BYTES), the checks read it through
a memory map, a JPEG is decoded at the smallest scale that still gives MAX_SIDE
(Pillow's draft mode), the re-encoded image is written to a spooled temporary
file, and a PDF goes to storage as the file it was copied to. Two hundred
members sending photos after a typhoon must not need two hundred files' worth
of memory.
"""
from __future__ import annotations

import mmap
import re
import secrets
import tempfile
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 3000  # enough to read a receipt's small print
MAX_FILES_PER_CLAIM = 20
CHUNK_BYTES = 1024 * 1024
SPOOL_BYTES = 1024 * 1024  # re-encoded images larger than this wait on disk
PRIVATE_PREFIX = "private/claims"

NOT_ACCEPTED = "JPEG・PNGの写真、またはPDFのファイルを選んでください。"
TOO_LARGE = "ファイルは1つ10MBまでです。"
HEIC = "HEIC形式の写真はそのままでは送れません。写真を選び直すか、JPEG形式で保存してからお送りください。"
CRAFTED = "このファイルは受け付けられません。写真を撮り直すか、別のファイルを選んでください。"

_MARKUP = re.compile(rb"<\s*(script|html|svg|iframe|object|embed|body)\b|javascript:", re.IGNORECASE)
_OTHER_FORMATS = (b"%PDF", b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"MZ", b"#!")
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)\b")


class DocumentError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CheckedFile:
    """A file to store: `file` is positioned at its start; whoever stores it closes it."""

    file: IO[bytes]
    size: int
    content_type: str
    extension: str

    @property
    def data(self) -> bytes:
        """The whole file in memory (for small files and tests; storage takes `file`)."""
        self.file.seek(0)
        try:
            return self.file.read()
        finally:
            self.file.seek(0)


def check_file(upload: bytes | IO[bytes]) -> CheckedFile:
    """The file to store, or DocumentError with a message for the member. `upload`
    is read in pieces from where it stands (or given as bytes)."""
    spool = _spool(BytesIO(upload) if isinstance(upload, (bytes, bytearray)) else upload)
    size = spool.seek(0, 2)
    try:
        if not size:
            raise DocumentError("ファイルが空です。")
        with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as data:
            checked = _check(data, spool)
    except BaseException:
        spool.close()
        raise
    if checked.file is not spool:
        spool.close()
    return checked


def _spool(upload: IO[bytes]) -> IO[bytes]:
    """A temporary file on disk with the upload's bytes; TOO_LARGE past MAX_FILE_BYTES."""
    spool = tempfile.TemporaryFile()
    size = 0
    while chunk := upload.read(CHUNK_BYTES):
        size += len(chunk)
        if size > MAX_FILE_BYTES:
            spool.close()
            raise DocumentError(TOO_LARGE)
        spool.write(chunk)
    spool.flush()
    return spool


def _check(data: mmap.mmap, spool: IO[bytes]) -> CheckedFile:
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc", b"ftypheis"):
        raise DocumentError(HEIC)
    if data[:5] == b"%PDF-":
        return _check_pdf(data, spool)
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n":
        return _reencode_image(data, spool)
    raise DocumentError(NOT_ACCEPTED)


def _image_end(data: mmap.mmap, image_format: str) -> int:
    """Where the image's own bytes end (JPEG EOI, PNG IEND chunk)."""
    if image_format == "PNG":
        position = data.rfind(b"IEND")
        return -1 if position < 0 else position + 8  # chunk type + CRC
    position = data.rfind(b"\xff\xd9")
    return -1 if position < 0 else position + 2


def _reencode_image(data: mmap.mmap, spool: IO[bytes]) -> CheckedFile:
    try:
        spool.seek(0)
        with Image.open(spool) as probe:
            image_format = probe.format
            width, height = probe.size
            if width * height > MAX_PIXELS:
                raise DocumentError("写真の画素数が大きすぎます。カメラの設定を変えるか、縮小してからお送りください。")
            probe.verify()
    except DocumentError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DocumentError(NOT_ACCEPTED) from error
    if image_format not in ("JPEG", "PNG"):
        raise DocumentError(NOT_ACCEPTED)
    end = _image_end(data, image_format)
    # Some phones append their own trailer after the image (Samsung's SEFT): allowed,
    # unless it holds another format or markup.
    if end < 0 or _MARKUP.search(data) or data.find(b"%PDF-", 0, 1024) >= 0 or \
            any(data.find(signature, end) >= 0 for signature in _OTHER_FORMATS):
        raise DocumentError(CRAFTED)
    try:
        spool.seek(0)
        with Image.open(spool) as opened:
            if image_format == "JPEG" and max(width, height) > MAX_SIDE:
                # Decoded at 1/2, 1/4 or 1/8 of the size when that still leaves MAX_SIDE on the long side.
                opened.draft(None, (-(-width * MAX_SIDE // max(width, height)),
                                    -(-height * MAX_SIDE // max(width, height))))
            opened.load()
            image = ImageOps.exif_transpose(opened)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise DocumentError(NOT_ACCEPTED) from error
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    if image_format == "JPEG":
        image = image.convert("RGB")
        image.info = {}
        image.save(out, "JPEG", quality=88, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA"):
            image = image.convert("RGBA")
        image.info = {}
        image.save(out, "PNG", optimize=True)
        content_type, extension = "image/png", "png"
    size = out.tell()
    out.seek(0)
    return CheckedFile(out, size, content_type, extension)


def _check_pdf(data: mmap.mmap, spool: IO[bytes]) -> CheckedFile:
    if _MARKUP.search(data) or _PDF_ACTIVE.search(data) or b"\xff\xd8\xff" == data[:3]:
        raise DocumentError(CRAFTED)
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        spool.seek(0)
        reader = PdfReader(spool, strict=False)
        if reader.is_encrypted:
            raise DocumentError("パスワード付きのPDFは受け付けられません。")
        if not 0 < len(reader.pages) <= 50:
            raise DocumentError("PDFは50ページまでです。")
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError) as error:
        raise DocumentError(NOT_ACCEPTED) from error
    size = spool.seek(0, 2)
    spool.seek(0)
    return CheckedFile(spool, size, "application/pdf", "pdf")


def new_key(member_id: int, extension: str) -> str:
    """A fresh private key; the member's id is part of it so a pending upload can only
    be attached to that member's claim."""
    return f"{PRIVATE_PREFIX}/{member_id}/{secrets.token_hex(16)}.{extension}"


def key_belongs_to(key: str, member_id: int) -> bool:
    return bool(re.fullmatch(rf"{re.escape(PRIVATE_PREFIX)}/{member_id}/[0-9a-f]{{32}}\.(jpg|png|pdf)", key))
