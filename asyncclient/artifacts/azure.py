"""Artifacts in Azure Blob Storage (MLflow's ``AzureBlobArtifactRepository``), through ``azure-storage-blob``.

URIs are MLflow's: ``wasbs://<container>@<account>.blob.core.windows.net/<path>``. Credentials as MLflow reads
them: ``AZURE_STORAGE_CONNECTION_STRING`` (which may also name the endpoint, e.g. Azurite's), else
``AZURE_STORAGE_ACCESS_KEY`` for the account in the URI.
"""

from __future__ import annotations

import base64
import functools
import logging
import os
import posixpath
import re
import uuid
from typing import BinaryIO
from urllib.parse import parse_qs, quote, urlparse

from asyncclient.artifacts.base import ArtifactRepository, MultipartUpload, UploadPartCredential
from asyncclient.artifacts.paths import validate_path_is_safe
from asyncclient.entities import FileInfo
from asyncclient.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

_WASBS = re.compile(r"^([^@]+)@([^.]+)\.(blob\.core\.(?:windows\.net|chinacloudapi\.cn|usgovcloudapi\.net))$")
# Blocks and ranged reads of 4 MiB: the SDK's defaults would first buffer up to 64 MiB (single put) and
# 32 MiB (first get) per transfer, which a streaming server cannot afford.
_BLOCK = 4 * 1024 * 1024
# The SDK logs every request at INFO, which a server logging at INFO would write for each 4 MiB block.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)


def _require_sdk():
    try:
        import azure.storage.blob as blob
    except ImportError as e:
        raise MlflowException(
            "Azure Blob artifacts need the azure-storage-blob package: pip install 'asyncclient[azure]'",
            error_code="NOT_IMPLEMENTED") from e
    return blob


def parse_wasbs_uri(uri: str) -> tuple[str, str, str, str]:
    """``wasbs://container@account.blob.core.windows.net/path`` -> (container, account, path, api suffix)."""
    parsed = urlparse(uri)
    match = _WASBS.match(parsed.netloc) if parsed.scheme == "wasbs" else None
    if match is None:
        raise MlflowException.invalid_parameter_value(
            f"Not an Azure Blob URI: '{uri}'. Expected wasbs://<container>@<account>.blob.core.windows.net/<path>")
    return match.group(1), match.group(2), parsed.path.strip("/"), match.group(3)


@functools.lru_cache(maxsize=16)
def _service(account: str, suffix: str, connection_string: str | None, access_key: str | None, pid: int):
    # The pid in the key: a forked server worker must not share the parent's connection pool.
    blob = _require_sdk()
    sizes = {"max_single_put_size": _BLOCK, "max_block_size": _BLOCK,
             "max_single_get_size": _BLOCK, "max_chunk_get_size": _BLOCK}
    if connection_string:
        return blob.BlobServiceClient.from_connection_string(connection_string, **sizes)
    if access_key:
        return blob.BlobServiceClient(f"https://{account}.{suffix}",
                                      credential={"account_name": account, "account_key": access_key}, **sizes)
    raise MlflowException(
        "Azure Blob artifacts need credentials: set AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCESS_KEY.",
        error_code="INVALID_PARAMETER_VALUE")


def _wrap(e: Exception, what: str) -> MlflowException:
    from azure.core.exceptions import ResourceNotFoundError

    if isinstance(e, MlflowException):
        return e
    code = RESOURCE_DOES_NOT_EXIST if isinstance(e, ResourceNotFoundError) else "INTERNAL_ERROR"
    return MlflowException(f"Azure {what}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                           error_code=code)


class _DownloadStream:
    """``read(n)`` over a ``StorageStreamDownloader``, which fetches the blob 4 MiB at a time."""

    def __init__(self, downloader):
        self._downloader = downloader

    def read(self, n: int = -1) -> bytes:
        return self._downloader.read(n if n is not None and n >= 0 else -1)

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AzureBlobArtifactRepository(ArtifactRepository):
    """Files under ``wasbs://<container>@<account>.../<prefix>``; a "directory" is a name prefix ending in ``/``."""

    def __init__(self, artifact_uri: str):
        super().__init__(artifact_uri)
        self.container, self.account, self.prefix, self._suffix = parse_wasbs_uri(artifact_uri)
        _require_sdk()

    def _service(self):
        return _service(self.account, self._suffix, os.environ.get("AZURE_STORAGE_CONNECTION_STRING"),
                        os.environ.get("AZURE_STORAGE_ACCESS_KEY"), os.getpid())

    def _container(self):
        return self._service().get_container_client(self.container)

    def _name(self, artifact_path: str | None) -> str:
        rel = validate_path_is_safe(artifact_path.strip("/")) if artifact_path and artifact_path.strip("/") else ""
        return posixpath.join(self.prefix, rel) if rel else self.prefix

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        from azure.storage.blob import BlobPrefix

        name = self._name(path)
        prefix = name + "/" if name else ""
        rel_prefix = path.strip("/") + "/" if path and path.strip("/") else ""
        infos = []
        try:
            for item in self._container().walk_blobs(name_starts_with=prefix, delimiter="/"):
                rest = item.name[len(prefix):]
                if isinstance(item, BlobPrefix):
                    infos.append(FileInfo(rel_prefix + rest.rstrip("/"), True, None))
                elif rest:
                    infos.append(FileInfo(rel_prefix + rest, False, int(item.size)))
        except Exception as e:
            raise _wrap(e, f"listing {self.container}/{prefix}") from e
        return sorted(infos, key=lambda i: i.path)

    def write_stream(self, artifact_path: str, stream: BinaryIO) -> None:
        # Blocks are staged, then committed in one call: readers never see a partial blob.
        name = self._name(artifact_path)
        try:
            self._container().upload_blob(name, stream, overwrite=True, max_concurrency=1)
        except Exception as e:
            raise _wrap(e, f"upload to {self.container}/{name}") from e

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        name = os.path.basename(local_file)
        dest = posixpath.join(artifact_path, name) if artifact_path else name
        with open(local_file, "rb") as f:
            self.write_stream(dest, f)

    def file_size(self, artifact_path: str) -> int:
        name = self._name(artifact_path)
        try:
            return int(self._container().get_blob_client(name).get_blob_properties().size)
        except Exception as e:
            raise _wrap(e, f"read of {self.container}/{name}") from e

    def open_read(self, artifact_path: str, offset: int = 0, length: int | None = None) -> BinaryIO:
        name = self._name(artifact_path)
        try:
            downloader = self._container().download_blob(
                name, offset=offset if offset or length is not None else None, length=length, max_concurrency=1)
        except Exception as e:
            raise _wrap(e, f"read of {self.container}/{name}") from e
        return _DownloadStream(downloader)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        name = self._name(artifact_path)
        container = self._container()
        try:
            for blob in container.list_blobs(name_starts_with=name):
                if blob.name == name or blob.name.startswith(name.rstrip("/") + "/") or not name:
                    container.delete_blob(blob.name)
        except Exception as e:
            raise _wrap(e, f"delete of {self.container}/{name}") from e

    # ---- multipart: the client puts blocks straight to Azure with a short-lived SAS, as MLflow's does ----

    def create_multipart_upload(self, artifact_path: str, num_parts: int) -> MultipartUpload:
        from datetime import UTC, datetime, timedelta

        from azure.storage.blob import BlobSasPermissions, generate_blob_sas

        name = self._name(artifact_path)
        service = self._service()
        key = getattr(service.credential, "account_key", None)
        if not key:
            raise MlflowException("Multipart upload is not supported for the current artifact repository: "
                                  "Azure needs an account key to sign block URLs", error_code="NOT_IMPLEMENTED")
        sas = generate_blob_sas(account_name=service.account_name, container_name=self.container, blob_name=name,
                                account_key=key, permission=BlobSasPermissions(write=True),
                                expiry=datetime.now(UTC) + timedelta(hours=6))
        blob_url = self._container().get_blob_client(name).url
        upload_id = uuid.uuid4().hex
        credentials = []
        for part in range(1, num_parts + 1):
            block_id = base64.b64encode(f"{upload_id}-{part:06d}".encode()).decode()
            credentials.append(UploadPartCredential(
                part, f"{blob_url}?comp=block&blockid={quote(block_id, safe='')}&{sas}", {}))
        return MultipartUpload(upload_id, credentials)

    def complete_multipart_upload(self, artifact_path: str, upload_id: str, parts: list[dict]) -> None:
        from azure.storage.blob import BlobBlock

        name = self._name(artifact_path)
        blocks = []
        for part in sorted(parts, key=lambda p: int(p["part_number"])):
            block_id = parse_qs(urlparse(part.get("url", "")).query).get("blockid", [""])[0]
            expected = base64.b64encode(f"{upload_id}-{int(part['part_number']):06d}".encode()).decode()
            if block_id != expected:
                raise MlflowException.invalid_parameter_value(
                    f"Part {part['part_number']} does not belong to upload {upload_id}")
            # The SDK base64-encodes ids itself: hand it the raw id the client's URL carries encoded.
            blocks.append(BlobBlock(block_id=base64.b64decode(block_id).decode()))
        try:
            self._container().get_blob_client(name).commit_block_list(blocks)
        except Exception as e:
            raise _wrap(e, f"commit of {self.container}/{name}") from e

    def abort_multipart_upload(self, artifact_path: str, upload_id: str) -> None:
        # Uncommitted blocks are dropped by Azure after a week; there is nothing to delete (as MLflow).
        return None
