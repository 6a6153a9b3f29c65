"""File storage: generated PDFs and uploaded images.

`local` (default) keeps files under STORAGE_DIR and the app serves them itself
(`url_for` returns None); `s3` stores them in S3_BUCKET through boto3 and hands
out short-lived presigned URLs. Keys are relative paths made of safe characters
only, so a key can never leave the storage directory.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Protocol

from flask import current_app

from portal.gateways import GatewayError

READ_FAILED = "ファイルを取り出せませんでした。しばらくしてからもう一度お試しください。"
SAVE_FAILED = "ファイルを保存できませんでした。しばらくしてからもう一度お試しください。"

# Segments of letters, digits, dot, dash and underscore, joined by "/"; no
# segment may be "." or ".." and no segment may start with a dot.
_SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$")
MAX_KEY_LENGTH = 512
# A file object is copied in pieces of this size: an upload is never held whole.
CHUNK_BYTES = 1024 * 1024


def check_key(key: str) -> str:
    """Return the key if it is a safe relative path, else raise GatewayError."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise GatewayError(SAVE_FAILED, detail=f"bad storage key {key!r}")
    segments = key.split("/")
    if any(not _SEGMENT.match(s) for s in segments):
        raise GatewayError(SAVE_FAILED, detail=f"bad storage key {key!r}")
    return key


@dataclass(frozen=True)
class StoredFile:
    key: str
    modified_at: datetime  # UTC


class Storage(Protocol):
    def save(self, key: str, data: bytes | IO[bytes], content_type: str) -> None: ...

    def open(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> Iterator[StoredFile]: ...

    def delete(self, key: str) -> None: ...

    def url_for(self, key: str, expires: int = 300) -> str | None: ...

    def ping(self) -> None: ...


class LocalStorage:
    """Files on the local disk; `url_for` is None: the app streams them itself."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # belt and braces after check_key
            raise GatewayError(READ_FAILED, detail=f"key escapes storage: {key!r}")
        return path

    def save(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        """`data` as bytes, or a binary file object read from where it stands, in
        CHUNK_BYTES pieces."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".part")
            if isinstance(data, (bytes, bytearray, memoryview)):
                tmp.write_bytes(data)
            else:
                with tmp.open("wb") as out:
                    shutil.copyfileobj(data, out, CHUNK_BYTES)
            tmp.replace(path)  # readers never see half a file
        except OSError as error:
            raise GatewayError(SAVE_FAILED, detail=str(error)) from error

    def open(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except OSError as error:
            raise GatewayError(READ_FAILED, detail=str(error)) from error

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[StoredFile]:
        """Every file whose key starts with the folder `prefix` (half-written files excluded)."""
        folder = self._path(prefix.rstrip("/"))
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.name.endswith(".part"):
                modified = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
                yield StoredFile(path.relative_to(self.root).as_posix(), modified)

    def delete(self, key: str) -> None:
        """Remove a file; one already gone is not an error."""
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as error:
            raise GatewayError(SAVE_FAILED, detail=str(error)) from error

    def url_for(self, key: str, expires: int = 300) -> str | None:
        check_key(key)
        return None

    def ping(self) -> None:
        """Raise GatewayError unless files can be written here (readiness)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise GatewayError(SAVE_FAILED, detail=f"storage folder not writable: {self.root}")


class S3Storage:
    """S3 (or anything speaking its API, such as a moto server in tests)."""

    def __init__(self, bucket: str, *, region: str, endpoint_url: str | None = None,
                 client: Any = None) -> None:
        self.bucket = bucket
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "s3", region_name=region, endpoint_url=endpoint_url,
                config=Config(connect_timeout=2, read_timeout=5,
                              retries={"total_max_attempts": 2, "mode": "standard"},
                              signature_version="s3v4"),
            )
        self.client = client

    def save(self, key: str, data: bytes | IO[bytes], content_type: str) -> None:
        """Bytes in one PUT; a file object through upload_fileobj, which reads it in
        parts (a multipart upload above boto3's threshold) instead of all at once."""
        from boto3.exceptions import S3UploadFailedError
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if isinstance(data, (bytes, bytearray, memoryview)):
                self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type)
            else:
                self.client.upload_fileobj(data, self.bucket, check_key(key),
                                           ExtraArgs={"ContentType": content_type})
        except (BotoCoreError, ClientError, S3UploadFailedError) as error:
            raise GatewayError(SAVE_FAILED, detail=str(error)) from error

    def open(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
            return response["Body"].read()
        except (BotoCoreError, ClientError) as error:
            raise GatewayError(READ_FAILED, detail=str(error)) from error

    def exists(self, key: str) -> bool:
        """False only when S3 says there is no such object; any other failure is a GatewayError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise GatewayError(READ_FAILED, detail=str(error)) from error
        except BotoCoreError as error:
            raise GatewayError(READ_FAILED, detail=str(error)) from error

    def list(self, prefix: str) -> Iterator[StoredFile]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=check_key(prefix.rstrip("/")) + "/")
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredFile(item["Key"], item["LastModified"].astimezone(timezone.utc))
        except (BotoCoreError, ClientError) as error:
            raise GatewayError(READ_FAILED, detail=str(error)) from error

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.delete_object(Bucket=self.bucket, Key=check_key(key))
        except (BotoCoreError, ClientError) as error:
            raise GatewayError(SAVE_FAILED, detail=str(error)) from error

    def ping(self) -> None:
        """Raise GatewayError unless the bucket answers (readiness)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise GatewayError(READ_FAILED, detail=str(error)) from error

    def url_for(self, key: str, expires: int = 300) -> str | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": check_key(key)}, ExpiresIn=expires)
        except (BotoCoreError, ClientError) as error:
            raise GatewayError(READ_FAILED, detail=str(error)) from error


def build(config: dict[str, Any]) -> Storage:
    backend = config.get("STORAGE", "local")
    if backend == "local":
        return LocalStorage(config["STORAGE_DIR"])
    if backend == "s3":
        return S3Storage(config["S3_BUCKET"], region=config.get("AWS_REGION", "ap-northeast-1"),
                         endpoint_url=config.get("AWS_ENDPOINT_URL"))
    raise GatewayError(detail=f"unknown PORTAL_STORAGE {backend!r}")


def storage() -> Storage:
    """The app's storage, built on first use (gateways.init_app is shared)."""
    app = current_app
    gateway = app.extensions.get("storage_gateway")
    if gateway is None:
        gateway = app.extensions.setdefault("storage_gateway", build(app.config))
    return gateway
