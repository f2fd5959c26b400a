from asyncclient.entities._base import Entity


class Dataset(Entity):
    """Dataset metadata for ``log_input`` (``mlflow.entities.Dataset``)."""

    __slots__ = ("_name", "_digest", "_source_type", "_source", "_schema", "_profile")

    def __init__(self, name, digest, source_type, source, schema=None, profile=None):
        self._name, self._digest, self._source_type, self._source = name, digest, source_type, source
        self._schema, self._profile = schema, profile

    name = property(lambda self: self._name)
    digest = property(lambda self: self._digest)
    source_type = property(lambda self: self._source_type)
    source = property(lambda self: self._source)
    schema = property(lambda self: self._schema)
    profile = property(lambda self: self._profile)


class InputTag(Entity):
    __slots__ = ("_key", "_value")

    def __init__(self, key: str, value: str):
        self._key, self._value = key, value

    key = property(lambda self: self._key)
    value = property(lambda self: self._value)


class DatasetInput(Entity):
    __slots__ = ("_dataset", "_tags")

    def __init__(self, dataset: Dataset, tags: list[InputTag] | None = None):
        self._dataset, self._tags = dataset, list(tags or [])

    dataset = property(lambda self: self._dataset)
    tags = property(lambda self: self._tags)


class RunInputs(Entity):
    __slots__ = ("_dataset_inputs",)

    def __init__(self, dataset_inputs: list[DatasetInput] | None = None):
        self._dataset_inputs = list(dataset_inputs or [])

    dataset_inputs = property(lambda self: self._dataset_inputs)
