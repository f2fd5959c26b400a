"""MLflow's search grammar: a tokenizer, a recursive-descent parser and a compiler to SQLAlchemy."""

from asyncclient.store.search.parser import Clause, OrderBy, parse_filter, parse_order_by

__all__ = ["Clause", "OrderBy", "parse_filter", "parse_order_by"]
