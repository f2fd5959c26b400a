"""Artifacts in S3 or an S3-compatible store (MLflow's ``S3ArtifactRepository``), through boto3.

Configured as MLflow's: ``MLFLOW_S3_ENDPOINT_URL`` (MinIO, moto, ...), ``MLFLOW_S3_IGNORE_TLS``,
``MLFLOW_S3_UPLOAD_EXTRA_ARGS`` (JSON, e.g. server-side encryption), and boto3's usual credentials chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, instance roles) and ``AWS_DEFAULT_REGION``.
"""

from __future__ import annotations

import functools
import json
import os
import posixpath
from typing import BinaryIO
from urllib.parse import urlparse

from asyncclient.artifacts.base import ArtifactRepository, MultipartUpload, UploadPartCredential
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException


def _stream_transfer():
    from boto3.s3.transfer import TransferConfig

    # A proxied upload arrives as a stream, which s3transfer reads a part at a time into memory: it keeps at
    # most ``max_in_memory_upload_chunks`` parts (default 10 of 8 MiB), so 2 parts of 5 MiB (S3's smallest)
    # bound the server's memory per upload while 2 parts are sent concurrently.
    config = TransferConfig(multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
    config.max_in_memory_upload_chunks = 2
    return config


@functools.lru_cache(maxsize=16)
def _client(endpoint_url: str | None, verify: bool, pid: int, credentials: tuple):
    # boto3 clients are thread-safe but not fork-safe, hence the pid in the cache key; the credentials in
    # the key make a changed environment (tests, rotated keys) take effect.
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url, verify=verify,
                        config=Config(retries={"max_attempts": 5, "mode": "standard"}))


def s3_client():
    """The S3 client for the current environment (cached per process and configuration)."""
    credentials = tuple(os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                                    "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION"))
    verify = os.environ.get("MLFLOW_S3_IGNORE_TLS", "").lower() != "true"
    return _client(os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None, verify, os.getpid(), credentials)


def _wrap(e: Exception, what: str) -> MlflowException:
    """botocore's errors as MlflowException, keeping S3's own code and message."""
    from botocore.exceptions import ClientError

    if isinstance(e, ClientError):
        err = e.response.get("Error", {})
        code = RESOURCE_DOES_NOT_EXIST if err.get("Code") in ("404", "NoSuchKey", "NoSuchBucket") else "INTERNAL_ERROR"
        return MlflowException(f"S3 {what}: {err.get('Code')}: {err.get('Message') or e}", error_code=code)
    return MlflowException(f"S3 {what}: {type(e).__name__}: {e}")


class S3ArtifactRepository(ArtifactRepository):
    """Files under ``s3://<bucket>/<prefix>``; a "directory" is a key prefix ending in ``/``."""

    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        parsed = urlparse(artifact_uri)
        if parsed.scheme not in ("s3", "s3a", "s3n") or not parsed.netloc:
            raise MlflowException.invalid_parameter_value(f"Not an S3 URI: {artifact_uri}")
        self.bucket = parsed.netloc
        self.prefix = parsed.path.strip("/")

    def _key(self, artifact_path: str | None) -> str:
        rel = validate_path_is_safe(artifact_path.strip("/")) if artifact_path and artifact_path.strip("/") else ""
        return posixpath.join(self.prefix, rel) if rel else self.prefix

    @staticmethod
    def _extra_args() -> dict:
        raw = os.environ.get("MLFLOW_S3_UPLOAD_EXTRA_ARGS")
        return json.loads(raw) if raw else {}

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        key = self._key(path)
        prefix = key + "/" if key else ""
        rel_prefix = path.strip("/") + "/" if path and path.strip("/") else ""
        infos = []
        try:
            pages = s3_client().get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/")
            for page in pages:
                for common in page.get("CommonPrefixes", []):
                    name = common["Prefix"][len(prefix):].rstrip("/")
                    infos.append(FileInfo(rel_prefix + name, True, None))
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(prefix):]
                    if name:  # the directory marker some tools write
                        infos.append(FileInfo(rel_prefix + name, False, int(obj["Size"])))
        except Exception as e:
            raise _wrap(e, f"listing s3://{self.bucket}/{prefix}") from e
        return sorted(infos, key=lambda i: i.path)

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> None:
        key = self._key(artifact_path)
        try:
            s3_client().upload_fileobj(stream, self.bucket, key, ExtraArgs=self._extra_args() or None,
                                       Config=_stream_transfer())
        except Exception as e:
            raise _wrap(e, f"upload to s3://{self.bucket}/{key}") from e

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        name = os.path.basename(local_file)
        key = self._key(posixpath.join(artifact_path, name) if artifact_path else name)
        try:
            # upload_file does multipart uploads with retries for large files.
            s3_client().upload_file(local_file, self.bucket, key, ExtraArgs=self._extra_args() or None)
        except Exception as e:
            raise _wrap(e, f"upload to s3://{self.bucket}/{key}") from e

    def open_read(self, artifact_path: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        key = self._key(artifact_path)
        extra = {}
        if offset or length is not None:
            extra["Range"] = f"bytes={offset}-{'' if length is None else offset + length - 1}"
        try:
            return s3_client().get_object(Bucket=self.bucket, Key=key, **extra)["Body"]
        except Exception as e:
            raise _wrap(e, f"read of s3://{self.bucket}/{key}") from e

    def file_size(self, artifact_path: str) -> int:
        key = self._key(artifact_path)
        try:
            return int(s3_client().head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except Exception as e:
            raise _wrap(e, f"read of s3://{self.bucket}/{key}") from e

    # ---- multipart: the client PUTs parts straight to S3 with presigned URLs, as MLflow's does ----

    def create_multipart_upload(self, artifact_path: str, num_parts: int) -> MultipartUpload:
        key = self._key(artifact_path)
        client = s3_client()
        try:
            upload_id = client.create_multipart_upload(Bucket=self.bucket, Key=key, **self._extra_args())["UploadId"]
            credentials = [
                UploadPartCredential(part, client.generate_presigned_url(
                    "upload_part", ExpiresIn=6 * 3600,
                    Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": part}))
                for part in range(1, num_parts + 1)
            ]
        except Exception as e:
            raise _wrap(e, f"multipart upload to s3://{self.bucket}/{key}") from e
        return MultipartUpload(upload_id, credentials)

    def complete_multipart_upload(self, artifact_path: str, upload_id: str, parts: list[dict]) -> None:
        key = self._key(artifact_path)
        ordered = sorted(({"PartNumber": int(p["part_number"]), "ETag": p.get("etag", "")} for p in parts),
                         key=lambda p: p["PartNumber"])
        try:
            s3_client().complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                  MultipartUpload={"Parts": ordered})
        except Exception as e:
            raise _wrap(e, f"completing the upload to s3://{self.bucket}/{key}") from e

    def abort_multipart_upload(self, artifact_path: str, upload_id: str) -> None:
        key = self._key(artifact_path)
        try:
            s3_client().abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception as e:
            raise _wrap(e, f"aborting the upload to s3://{self.bucket}/{key}") from e

    def download_file(self, artifact_path: str, local_file: str) -> None:
        key = self._key(artifact_path)
        try:
            s3_client().download_file(self.bucket, key, local_file)
        except Exception as e:
            raise _wrap(e, f"download of s3://{self.bucket}/{key}") from e

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        key = self._key(artifact_path)
        client = s3_client()
        try:
            for page in client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=key):
                objects = [{"Key": o["Key"]} for o in page.get("Contents", [])
                           if o["Key"] == key or o["Key"].startswith(key.rstrip("/") + "/")]
                if objects:
                    client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects})
        except Exception as e:
            raise _wrap(e, f"delete of s3://{self.bucket}/{key}") from e
