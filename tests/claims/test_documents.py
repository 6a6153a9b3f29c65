"""Uploads: refused by content, re-encoded without EXIF, 404 for others, every view audited."""
from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image

from portal.claims import documents
from tests.claims.helpers import gps_of, jpeg, pdf, png


def test_jpeg_with_gps_comes_back_without_it():
    original = jpeg(gps=True)
    assert gps_of(original)  # the test file really carries GPS
    checked = documents.check_file(original)
    assert checked.content_type == "image/jpeg"
    assert gps_of(checked.data) == {}
    assert dict(Image.open(io.BytesIO(checked.data)).getexif()) == {}


def test_png_and_pdf_are_accepted():
    assert documents.check_file(png()).content_type == "image/png"
    assert documents.check_file(pdf()).content_type == "application/pdf"


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("x.html", "<html></html>")
    return out.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"this is a text file renamed to receipt.jpg\n", documents.NOT_ACCEPTED),
    (b"\xff\xd8\xff\xe0 not really a jpeg", documents.NOT_ACCEPTED),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", documents.HEIC),
    (b"", "ファイルが空です。"),
])
def test_wrong_content_is_refused(data, message):
    with pytest.raises(documents.DocumentError) as error:
        documents.check_file(data)
    assert error.value.message == message


@pytest.mark.parametrize("polyglot", [
    lambda: jpeg() + b"<html><script>alert(1)</script></html>",
    lambda: jpeg() + _zip(),
    lambda: jpeg() + pdf(),
    lambda: png() + b"%PDF-1.4 trailer",
    lambda: pdf().replace(b"%%EOF", b"<script>alert(1)</script>\n%%EOF"),
    lambda: pdf().replace(b"/Type /Catalog", b"/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
])
def test_polyglots_are_refused(polyglot):
    with pytest.raises(documents.DocumentError) as error:
        documents.check_file(polyglot())
    assert error.value.message == documents.CRAFTED


def test_oversized_files_and_images_are_refused(monkeypatch):
    with pytest.raises(documents.DocumentError) as error:
        documents.check_file(b"\xff\xd8\xff" + b"0" * documents.MAX_FILE_BYTES)
    assert error.value.message == documents.TOO_LARGE
    monkeypatch.setattr(documents, "MAX_PIXELS", 100 * 100)
    with pytest.raises(documents.DocumentError) as error:
        documents.check_file(jpeg(size=(200, 200)))
    assert "画素数" in error.value.message


def test_big_photo_is_scaled_down():
    checked = documents.check_file(jpeg(size=(4000, 3000)))
    assert Image.open(io.BytesIO(checked.data)).size == (3000, 2250)


def test_keys_are_new_and_bound_to_the_member():
    first, second = documents.new_key(7, "jpg"), documents.new_key(7, "jpg")
    assert first != second and first.startswith("private/claims/7/")
    assert documents.key_belongs_to(first, 7) and not documents.key_belongs_to(first, 8)
    assert not documents.key_belongs_to("private/claims/7/../8/x.jpg", 7)


def test_several_phone_photos_fit_in_one_post(member_client, app):
    """Two 4 MB photos are more than the app's general 6 MB request limit."""
    import os

    big = b"\xff\xd8\xff" + os.urandom(4 * 1024 * 1024)
    response = member_client.post("/claims/new/documents", data={
        "draft": "x", "files": [(io.BytesIO(big), "a.jpg"), (io.BytesIO(big), "b.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 400  # the forged draft, not 413: the upload itself was read
    assert app.config["MAX_CONTENT_LENGTH"] < 8 * 1024 * 1024


def _big_pdf(megabytes: int) -> bytes:
    """A valid one-page PDF carrying `megabytes` of page content (comment lines)."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject, StreamObject
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    content = StreamObject()
    content.set_data(b"% receipt scan\n" * (megabytes * 1024 * 1024 // 15))
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_large_upload_is_not_held_in_memory_whole(tmp_path, make_member):
    """Checked and stored in pieces: Python's peak memory while a 9 MB PDF goes from
    the upload to storage stays far below the file's size, and storage holds it whole."""
    import tracemalloc

    from portal.claims import services
    from portal.gateways.storage import LocalStorage

    data = _big_pdf(9)
    assert 8 * 1024 * 1024 < len(data) <= documents.MAX_FILE_BYTES
    member, store, upload = make_member(), LocalStorage(tmp_path), io.BytesIO(data)
    tracemalloc.start()
    try:
        key, content_type, size = services.store_upload(store, member, upload)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n{len(data) / 1e6:.1f} MB PDF stored with a Python memory peak of {peak / 1e6:.2f} MB")
    assert content_type == "application/pdf" and size == len(data)
    assert store.open(key) == data
    assert peak < len(data) / 4, f"peak {peak:,} bytes for a {len(data):,}-byte file"


def test_a_large_photo_is_decoded_at_a_smaller_scale(monkeypatch):
    """A 6000×4500 JPEG is decoded at half size (Pillow's draft mode: a quarter of the
    pixels in memory), then scaled to MAX_SIDE. Pillow's pixel memory is not Python's,
    so the size the decoder works at is what is observed."""
    from PIL import JpegImagePlugin

    decoded_at = []
    load = JpegImagePlugin.JpegImageFile.load

    def observed_load(image):
        decoded_at.append(image.size)
        return load(image)

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", observed_load)
    checked = documents.check_file(io.BytesIO(jpeg(size=(6000, 4500))))
    assert decoded_at and decoded_at[-1] == (3000, 2250)
    assert Image.open(checked.file).size == (3000, 2250)
