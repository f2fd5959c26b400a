"""Copy a run's artifact tree between two repositories, file by file, skipping files already there."""

from __future__ import annotations

from asyncclient.artifacts.base import ArtifactRepository


def list_tree(repo: ArtifactRepository, path: str | None = None) -> dict[str, int | None]:
    """Every file under ``path``: relative path -> size in bytes."""
    files = {}
    for info in repo.list_artifacts(path):
        if info.is_dir:
            files.update(list_tree(repo, info.path))
        else:
            files[info.path] = info.file_size
    return files


def missing_files(source: ArtifactRepository, dest: ArtifactRepository) -> dict[str, int | None]:
    """Source files the destination lacks, or holds with another size (an interrupted upload)."""
    have = list_tree(dest)
    return {path: size for path, size in list_tree(source).items() if path not in have or have[path] != size}


def copy_files(source: ArtifactRepository, dest: ArtifactRepository, files: dict[str, int | None]) -> int:
    """Stream each file from ``source`` to ``dest``; returns the bytes copied. Repositories write a file
    whole or not at all, so an interruption leaves nothing half-written that would pass for complete."""
    copied = 0
    for path in sorted(files):
        stream = source.open_read(path)
        try:
            dest.write_stream(path, stream)
        finally:
            stream.close()
        copied += files[path] or 0
    return copied
