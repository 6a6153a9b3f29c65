"""Files for claim tests, made here with Pillow."""
from __future__ import annotations

from io import BytesIO

from PIL import Image


def jpeg(size=(64, 48), *, gps: bool = False, color=(200, 100, 50)) -> bytes:
    image = Image.new("RGB", size, color)
    out = BytesIO()
    if gps:
        exif = Image.Exif()
        exif[0x010F] = "TestCam"
        exif[0x8825] = {1: "N", 2: (35.0, 39.0, 10.0), 3: "E", 4: (139.0, 44.0, 30.0)}
        image.save(out, "JPEG", exif=exif.tobytes())
    else:
        image.save(out, "JPEG")
    return out.getvalue()


def png(size=(32, 32)) -> bytes:
    out = BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    from portal.claims.pdf import certificate_form_pdf
    return certificate_form_pdf()


def gps_of(data: bytes) -> dict:
    return dict(Image.open(BytesIO(data)).getexif().get_ifd(0x8825))
