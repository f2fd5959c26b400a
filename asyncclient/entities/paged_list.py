class PagedList(list):
    """A page of results with ``token`` for the next page (``mlflow.store.entities.PagedList``)."""

    def __init__(self, items, token: str | None):
        super().__init__(items)
        self.token = token

    def to_list(self) -> list:
        return list(self)
