from asyncclient.entities._base import Entity


class FileInfo(Entity):
    """An artifact listing entry (``mlflow.entities.FileInfo``)."""

    __slots__ = ("_path", "_is_dir", "_file_size")

    def __init__(self, path: str, is_dir: bool, file_size: int | None):
        self._path, self._is_dir, self._file_size = path, is_dir, file_size

    path = property(lambda self: self._path)
    is_dir = property(lambda self: self._is_dir)
    file_size = property(lambda self: self._file_size)
