"""A small base giving entities MLflow's ``__repr__``, equality and ``to_dictionary``."""


class Entity:
    __slots__ = ()

    def _fields(self) -> tuple[str, ...]:
        return tuple(s.lstrip("_") for s in self.__slots__)

    def to_dictionary(self) -> dict:
        return {name: getattr(self, name) for name in self._fields()}

    def __iter__(self):
        # MLflow entities iterate as (property, value) pairs: dict(run.info) works.
        return iter(self.to_dictionary().items())

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dictionary() == other.to_dictionary()

    def __hash__(self):
        return hash(tuple(repr(v) for v in self.to_dictionary().values()))

    def __repr__(self):
        body = ", ".join(f"{k}={v!r}" for k, v in sorted(self.to_dictionary().items()))
        return f"<{type(self).__name__}: {body}>"
