"""Tip cover images: checked, re-encoded without metadata, scaled down, stored
under tips/ through the storage gateway, and served by their random name."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session
from portal.tips.errors import TipError
from portal.tips.models import Tip, TipRevision


MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_WIDTH = 1600
MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs before decoding
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
IMAGE_KEY_PREFIX = "tips/"
IMAGE_NAME_RE = re.compile(r"^[0-9a-f]{32}\.(?:jpg|png|webp)$")


@dataclass(frozen=True)
class ProcessedImage:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


_NOT_AN_IMAGE = "JPEG・PNG・WebP形式の画像ファイルを選んでください。"


def process_cover_image(data: bytes) -> ProcessedImage:
    """Check an upload by its content, then re-encode it: metadata and anything
    appended to the file (a polyglot's HTML or script) do not survive."""
    if not data:
        raise TipError("画像ファイルが空です。", "cover")
    if len(data) > MAX_IMAGE_BYTES:
        raise TipError("画像は5MB以下のファイルを選んでください。", "cover")
    try:
        with Image.open(BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            if width * height > MAX_IMAGE_PIXELS:
                raise TipError("画像の縦横のピクセル数が大きすぎます。", "cover")
            probe.verify()
    except TipError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise TipError(_NOT_AN_IMAGE, "cover") from error
    if image_format not in IMAGE_FORMATS:
        raise TipError(_NOT_AN_IMAGE, "cover")
    content_type, extension = IMAGE_FORMATS[image_format]
    try:
        # verify() leaves the image unusable: open it again to decode.
        with Image.open(BytesIO(data)) as opened:
            opened.load()
            image = ImageOps.exif_transpose(opened)  # keep the photo upright once EXIF is gone
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise TipError(_NOT_AN_IMAGE, "cover") from error
    if image.width > MAX_IMAGE_WIDTH:
        new_height = max(1, round(image.height * MAX_IMAGE_WIDTH / image.width))
        image = image.resize((MAX_IMAGE_WIDTH, new_height), Image.Resampling.LANCZOS)
    if image_format == "JPEG":
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    image.info = {}  # no EXIF, ICC, XMP or text chunks are carried over
    out = BytesIO()
    if image_format == "JPEG":
        image.save(out, "JPEG", quality=85, optimize=True, progressive=True)
    elif image_format == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85, method=4)
    return ProcessedImage(out.getvalue(), content_type, extension, image.width, image.height)


def store_cover_image(data: bytes) -> tuple[str, str]:
    """Process and store an upload under a random name; (key, content_type)."""
    from portal.gateways import GatewayError
    from portal.gateways.storage import storage

    processed = process_cover_image(data)
    key = f"{IMAGE_KEY_PREFIX}{secrets.token_hex(16)}.{processed.extension}"
    try:
        storage().save(key, processed.data, processed.content_type)
    except GatewayError as error:
        raise TipError(error.message, "cover") from error
    return key, processed.content_type


def image_name(key: str | None) -> str | None:
    return key[len(IMAGE_KEY_PREFIX):] if key and key.startswith(IMAGE_KEY_PREFIX) else None


def cover_for_name(session: Session, name: str, *, include_unpublished: bool = False) -> tuple[str, str] | None:
    """(key, content_type) of a cover image by its public name, if the viewer may see it."""
    if not IMAGE_NAME_RE.match(name or ""):
        return None
    key = IMAGE_KEY_PREFIX + name
    query = select(Tip.cover_key, Tip.cover_content_type).where(Tip.cover_key == key)
    if not include_unpublished:
        query = query.where(Tip.status == "published")
    row = session.execute(query.limit(1)).first()
    if row is None and include_unpublished:
        row = session.execute(select(TipRevision.cover_key, TipRevision.cover_content_type)
                              .where(TipRevision.cover_key == key).limit(1)).first()
    return (row[0], row[1]) if row else None
