"""Storage gateway: local files with safe keys, and S3 through a moto server on 127.0.0.1."""
from __future__ import annotations

import io
import time
import urllib.request
import os
from datetime import datetime
from pathlib import Path

import pypdf
import pytest
import time_machine

from portal.gateways import GatewayError
from tests.support.net import free_port as _free_port, moto_server
from portal.gateways.storage import LocalStorage, S3Storage, build, check_key

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ keys and local files

@pytest.mark.parametrize("key", [
    "../etc/passwd", "a/../../b", "/abs/path", "a//b", "", ".hidden", "a/./b", "a\\b", "a/..", "名前.pdf",
    "a b.pdf", "x" * 600,
])
def test_unsafe_keys_are_refused(key, tmp_path):
    with pytest.raises(GatewayError):
        check_key(key)
    with pytest.raises(GatewayError):
        LocalStorage(tmp_path).save(key, b"x", "text/plain")


def test_local_round_trip_stays_inside_its_directory(tmp_path):
    root = tmp_path / "files"
    store = LocalStorage(root)
    store.save("certificates/1/2026/C26-AAAA-BBBB.pdf", b"%PDF-1.4 demo", "application/pdf")
    assert (root / "certificates/1/2026/C26-AAAA-BBBB.pdf").read_bytes() == b"%PDF-1.4 demo"
    assert store.open("certificates/1/2026/C26-AAAA-BBBB.pdf") == b"%PDF-1.4 demo"
    assert store.url_for("certificates/1/2026/C26-AAAA-BBBB.pdf") is None  # served through the app
    assert store.exists("certificates/1/2026/C26-AAAA-BBBB.pdf") and not store.exists("certificates/1/none.pdf")
    store.save("certificates/1/2026/C26-AAAA-BBBB.pdf", b"second", "application/pdf")
    assert store.open("certificates/1/2026/C26-AAAA-BBBB.pdf") == b"second"
    assert not list(root.rglob("*.part"))
    with pytest.raises(GatewayError) as missing:
        store.open("certificates/none.pdf")
    assert "ファイル" in missing.value.message


class RecordingFile(io.BytesIO):
    """A binary file that remembers how much each read asked for (-1: everything)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


def test_local_save_copies_a_file_object_in_pieces(tmp_path):
    from portal.gateways.storage import CHUNK_BYTES
    data = bytes(range(256)) * (CHUNK_BYTES // 256 * 3 + 7)  # three pieces and a bit
    upload = RecordingFile(data)
    LocalStorage(tmp_path).save("private/claims/1/photo.jpg", upload, "image/jpeg")
    assert (tmp_path / "private/claims/1/photo.jpg").read_bytes() == data
    assert upload.asked and all(0 < size <= CHUNK_BYTES for size in upload.asked)
    assert not list(tmp_path.rglob("*.part"))


def test_build_picks_the_backend(tmp_path):
    assert isinstance(build({"STORAGE": "local", "STORAGE_DIR": str(tmp_path)}), LocalStorage)
    with pytest.raises(GatewayError):
        build({"STORAGE": "ftp", "STORAGE_DIR": str(tmp_path)})


def test_storage_accessor_is_built_once_per_app(app):
    from portal.gateways.storage import storage
    with app.app_context():
        first = storage()
        assert first is storage()
        assert isinstance(first, LocalStorage)
        assert str(first.root) == str(Path(app.config["STORAGE_DIR"]).resolve())


# ------------------------------------------------------------------ S3 through moto

@pytest.fixture(scope="module")
def s3_moto_url():
    # Its own server: moto's /moto-api/data.json (read by the SNS and SES tests) cannot
    # serialise S3 objects.
    with moto_server() as url:
        yield url


@pytest.fixture
def moto_endpoint(s3_moto_url, aws_credentials):
    return s3_moto_url


@pytest.fixture
def s3_store(moto_endpoint):
    store = build({"STORAGE": "s3", "S3_BUCKET": "mypage-files", "AWS_REGION": "ap-northeast-1",
                   "AWS_ENDPOINT_URL": moto_endpoint})
    assert isinstance(store, S3Storage)
    store.client.create_bucket(Bucket="mypage-files",
                               CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"})
    yield store
    for item in store.client.list_objects_v2(Bucket="mypage-files").get("Contents", []):
        store.client.delete_object(Bucket="mypage-files", Key=item["Key"])
    store.client.delete_bucket(Bucket="mypage-files")


def test_s3_client_has_short_timeouts(s3_store):
    config = s3_store.client.meta.config
    assert (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"]) == (2, 5, 2)


def test_s3_round_trip_and_presigned_url(s3_store):
    s3_store.save("certificates/7/2026/C26-TEST-0001.pdf", b"%PDF-1.4 s3", "application/pdf")
    assert s3_store.open("certificates/7/2026/C26-TEST-0001.pdf") == b"%PDF-1.4 s3"
    head = s3_store.client.head_object(Bucket="mypage-files", Key="certificates/7/2026/C26-TEST-0001.pdf")
    assert head["ContentType"] == "application/pdf"
    assert s3_store.exists("certificates/7/2026/C26-TEST-0001.pdf")
    assert not s3_store.exists("certificates/7/2026/C26-TEST-0002.pdf")
    url = s3_store.url_for("certificates/7/2026/C26-TEST-0001.pdf", expires=60)
    assert url.startswith(s3_store.client.meta.endpoint_url) and "X-Amz-Expires=60" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"%PDF-1.4 s3"


def test_s3_save_streams_a_file_object(s3_store):
    data = b"\xff\xd8\xff" + bytes(range(256)) * 40_000  # ~10 MB: above boto3's multipart threshold
    upload = RecordingFile(data)
    s3_store.save("private/claims/7/photo.jpg", upload, "image/jpeg")
    assert s3_store.open("private/claims/7/photo.jpg") == data
    head = s3_store.client.head_object(Bucket="mypage-files", Key="private/claims/7/photo.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert upload.asked and -1 not in upload.asked and max(upload.asked) < len(data)


def test_s3_errors_become_gateway_errors(s3_store, moto_endpoint):
    with pytest.raises(GatewayError):
        s3_store.open("certificates/none.pdf")
    with pytest.raises(GatewayError):
        s3_store.save("../escape", b"x", "text/plain")
    missing_bucket = S3Storage("no-such-bucket", region="ap-northeast-1", endpoint_url=moto_endpoint)
    with pytest.raises(GatewayError) as error:
        missing_bucket.save("a.pdf", b"x", "application/pdf")
    assert "保存できませんでした" in error.value.message
    with pytest.raises(GatewayError):  # a streamed upload fails the same way
        missing_bucket.save("a.jpg", io.BytesIO(b"\xff\xd8\xff"), "image/jpeg")
    # nothing listening: a clear error quickly, not a hang
    down = S3Storage("mypage-files", region="ap-northeast-1", endpoint_url=f"http://127.0.0.1:{_free_port()}")
    started = time.monotonic()
    with pytest.raises(GatewayError):
        down.open("a.pdf")
    assert time.monotonic() - started < 10


def test_certificate_download_redirects_to_a_presigned_url(app, client, auth, db_session, s3_store):
    from portal.clock import TOKYO
    from portal.seed import seed_demo

    day = datetime(2026, 11, 10, 10, 0, tzinfo=TOKYO)
    previous = app.extensions.get("storage_gateway")
    app.extensions["storage_gateway"] = s3_store
    try:
        with time_machine.travel(day, tick=False):
            seed_demo(db_session)
            auth.login()
            created = client.post("/certificates/pdf", data={"pdf-form_token": "S" * 32})
            download = client.get(created.headers["Location"])
    finally:
        if previous is None:
            app.extensions.pop("storage_gateway", None)
        else:
            app.extensions["storage_gateway"] = previous
    assert download.status_code == 302
    url = download.headers["Location"]
    assert url.startswith(s3_store.client.meta.endpoint_url + "/mypage-files/certificates/")
    with urllib.request.urlopen(url, timeout=5) as response:
        text = pypdf.PdfReader(io.BytesIO(response.read())).pages[0].extract_text()
    assert "みらい共済生活協同組合" in text and "255,000円" in text
