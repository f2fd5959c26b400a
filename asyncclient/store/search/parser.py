"""A recursive-descent parser for MLflow's search filter and order_by grammar (mlflow-rest-compat.md §3).

    filter     := [clause ("AND" clause)*]
    clause     := identifier comparator value | identifier "IS" ["NOT"] "NULL"
    comparator := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN
    value      := number | 'string' | "string" | "(" string ("," string)* [","] ")"
    order_by   := identifier ["ASC" | "DESC"]

The accepted identifiers, comparators and value types per entity are MLflow's ``SearchUtils`` (runs) and
``SearchExperimentsUtils`` (experiments). Every error is an ``MlflowException`` INVALID_PARAMETER_VALUE
that names the offending token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from asyncclient.exceptions import MlflowException
from asyncclient.store.search.tokens import Token, split_identifier, strip_quotes, tokenize

METRIC, PARAM, TAG, ATTRIBUTE, DATASET = "metric", "parameter", "tag", "attribute", "dataset"

_NUMERIC_COMPARATORS = frozenset({"=", "!=", "<", "<=", ">", ">="})
_STRING_COMPARATORS = frozenset({"=", "!=", "LIKE", "ILIKE"})
_NULL_COMPARATORS = frozenset({"IS NULL", "IS NOT NULL"})
_LIST_COMPARATORS = frozenset({"IN", "NOT IN"})


@dataclass(frozen=True)
class Clause:
    """One comparison: ``type`` is metric/parameter/tag/attribute/dataset, ``key`` is unaliased."""

    type: str
    key: str
    comparator: str
    value: float | int | str | tuple[str, ...] | None


@dataclass(frozen=True)
class OrderBy:
    type: str
    key: str
    ascending: bool


def _error(message: str) -> MlflowException:
    return MlflowException.invalid_parameter_value(message)


class RunSearchGrammar:
    """Identifiers and rules of ``search_runs`` (MLflow's ``SearchUtils``)."""

    ENTITY_ALIASES: ClassVar[dict[str, str]] = {
        "metric": METRIC, "metrics": METRIC,
        "parameter": PARAM, "parameters": PARAM, "param": PARAM, "params": PARAM,
        "tag": TAG, "tags": TAG,
        "attribute": ATTRIBUTE, "attributes": ATTRIBUTE, "attr": ATTRIBUTE, "run": ATTRIBUTE,
        "dataset": DATASET, "datasets": DATASET,
    }
    KEY_ALIASES: ClassVar[dict[str, str]] = {
        "created": "start_time", "Created": "start_time",
        "run name": "run_name", "Run name": "run_name", "Run Name": "run_name",
    }
    NUMERIC_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"start_time", "end_time", "created", "Created"})
    STRING_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri", "run name", "Run name", "Run Name"})
    ORDER_BY_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"run_id", "run_name", "status", "user_id", "artifact_uri", "start_time", "end_time", "created",
         "Created"})
    DATASET_KEYS: ClassVar[frozenset[str]] = frozenset({"name", "digest", "context"})
    LIST_KEYS: ClassVar[frozenset[str]] = frozenset({"run_id"})
    COMPARATORS: ClassVar[dict[str, frozenset[str]]] = {
        METRIC: _NUMERIC_COMPARATORS,
        PARAM: _STRING_COMPARATORS | _NULL_COMPARATORS,
        TAG: _STRING_COMPARATORS | _NULL_COMPARATORS,
        DATASET: _STRING_COMPARATORS | _LIST_COMPARATORS,
    }
    NULL_TYPES: ClassVar[frozenset[str]] = frozenset({PARAM, TAG})

    def entity(self, name: str, token: Token) -> str:
        try:
            return self.ENTITY_ALIASES[name]
        except KeyError:
            raise _error(f"Invalid entity type '{name}' in '{token.text}'. Valid values are "
                         f"['metric', 'parameter', 'tag', 'attribute', 'dataset']") from None

    def attribute_keys(self, for_order_by: bool) -> frozenset[str]:
        return self.ORDER_BY_ATTRIBUTES if for_order_by else self.STRING_ATTRIBUTES | self.NUMERIC_ATTRIBUTES

    def comparators(self, type_: str, key: str) -> frozenset[str]:
        if type_ == ATTRIBUTE:
            if key in self.NUMERIC_ATTRIBUTES:
                return _NUMERIC_COMPARATORS
            return _STRING_COMPARATORS | _LIST_COMPARATORS
        return self.COMPARATORS[type_]


class ExperimentSearchGrammar(RunSearchGrammar):
    """Identifiers and rules of ``search_experiments`` (MLflow's ``SearchExperimentsUtils``)."""

    ENTITY_ALIASES: ClassVar[dict[str, str]] = {"attribute": ATTRIBUTE, "tag": TAG, "tags": TAG}
    KEY_ALIASES: ClassVar[dict[str, str]] = {}
    NUMERIC_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"creation_time", "last_update_time"})
    STRING_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset({"name", "experiment_id"})
    ORDER_BY_ATTRIBUTES: ClassVar[frozenset[str]] = frozenset(
        {"name", "experiment_id", "creation_time", "last_update_time"})
    LIST_KEYS: ClassVar[frozenset[str]] = frozenset({"experiment_id"})
    NULL_TYPES: ClassVar[frozenset[str]] = frozenset({TAG})

    def entity(self, name: str, token: Token) -> str:
        try:
            return self.ENTITY_ALIASES[name]
        except KeyError:
            raise _error(f"Invalid entity type '{name}' in '{token.text}'. "
                         f"Valid entity types are ('attribute', 'tag', 'tags')") from None

    def comparators(self, type_: str, key: str) -> frozenset[str]:
        if type_ == ATTRIBUTE:
            if key in self.NUMERIC_ATTRIBUTES:
                return _NUMERIC_COMPARATORS
            return _STRING_COMPARATORS | (_LIST_COMPARATORS if key == "experiment_id" else frozenset())
        return _STRING_COMPARATORS | _NULL_COMPARATORS


RUNS = RunSearchGrammar()
EXPERIMENTS = ExperimentSearchGrammar()


class _Parser:
    def __init__(self, text: str, grammar: RunSearchGrammar, what: str):
        self.text = text
        self.grammar = grammar
        self.what = what
        self.tokens = tokenize(text, what)
        self.i = 0

    # ---- token helpers ----
    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def next(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise _error(f"Invalid {self.what} '{self.text}': expected {expected} but the {self.what} ended.")
        self.i += 1
        return token

    def is_keyword(self, token: Token | None, *words: str) -> bool:
        return token is not None and token.kind == "keyword" and token.text.upper() in words

    def unexpected(self, token: Token, expected: str) -> MlflowException:
        if self.is_keyword(token, "OR") or token.kind in ("lparen", "rparen"):
            # MLflow's wording for disjunctions and grouping, which the grammar does not have.
            # MLflow's exact message: clients (and MLflow's GraphQL errors) show it verbatim.
            return _error(f"Invalid clause(s) in filter string: '{token.text}'")
        return _error(f"Invalid {self.what} '{self.text}': expected {expected}, found '{token.text}' "
                      f"at position {token.pos}.")

    # ---- grammar ----
    def identifier(self, for_order_by: bool) -> tuple[str, str, Token]:
        token = self.next("an identifier such as metrics.<key>")
        if token.kind == "dquote":  # a bare "run name" is an attribute, as in MLflow
            entity, key = None, strip_quotes(token.text)
        elif token.kind == "ident":
            entity, key = split_identifier(token.text)
        else:
            raise self.unexpected(token, "an identifier such as metrics.<key>")
        type_ = ATTRIBUTE if entity is None else self.grammar.entity(entity, token)
        if type_ == ATTRIBUTE and key not in self.grammar.attribute_keys(for_order_by):
            raise _error(f"Invalid attribute key '{key}' specified. Valid keys are "
                         f"'{sorted(self.grammar.attribute_keys(for_order_by))}'")
        if type_ == DATASET and key not in self.grammar.DATASET_KEYS:
            raise _error(f"Invalid dataset key '{key}' specified. Valid keys are "
                         f"'{sorted(self.grammar.DATASET_KEYS)}'")
        if type_ == DATASET and for_order_by:
            raise _error(f"Invalid order_by entity type '{type_}' in '{token.text}'")
        return type_, key, token

    def comparator(self) -> str:
        token = self.next("a comparator")
        if token.kind == "op":
            return token.text
        if self.is_keyword(token, "LIKE", "ILIKE", "IN"):
            return token.text.upper()
        if self.is_keyword(token, "NOT"):
            follow = self.next("IN after NOT")
            if self.is_keyword(follow, "IN"):
                return "NOT IN"
            raise self.unexpected(follow, "IN after NOT")
        if self.is_keyword(token, "IS"):
            follow = self.next("NULL or NOT NULL after IS")
            if self.is_keyword(follow, "NOT"):
                follow = self.next("NULL after IS NOT")
                if self.is_keyword(follow, "NULL"):
                    return "IS NOT NULL"
            elif self.is_keyword(follow, "NULL"):
                return "IS NULL"
            raise self.unexpected(follow, "NULL")
        raise self.unexpected(token, "a comparator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)")

    def string_list(self, type_: str, key: str) -> tuple[str, ...]:
        if type_ != DATASET and key not in self.grammar.LIST_KEYS:
            raise _error(f"Only {sorted(self.grammar.LIST_KEYS)} attributes support comparison with a "
                         "list of quoted string values.")
        self.next("(")
        values: list[str] = []
        while True:
            token = self.next("a quoted string in the list")
            if token.kind == "rparen" and values:
                break
            if token.kind not in ("string", "dquote"):
                raise _error("While parsing a list in the query, expected a non-empty list of quoted string "
                             f"values, found '{token.text}' at position {token.pos}.")
            values.append(strip_quotes(token.text))
            sep = self.next("',' or ')'")
            if sep.kind == "rparen":
                break
            if sep.kind != "comma":
                raise self.unexpected(sep, "',' or ')'")
        return tuple(values)

    def value(self, type_: str, key: str, comparator: str) -> float | int | str | tuple[str, ...]:
        token = self.peek()
        if token is None:
            raise _error(f"Invalid {self.what} '{self.text}': expected a value after '{comparator}'.")
        numeric = type_ == METRIC or (type_ == ATTRIBUTE and key in self.grammar.NUMERIC_ATTRIBUTES)
        if numeric:
            self.i += 1
            if token.kind != "number":
                raise _error(f"Expected numeric value type for {type_} '{key}'. Found {token.text}")
            if type_ == ATTRIBUTE and not any(c in token.text for c in ".eE"):
                return int(token.text)
            return float(token.text)
        if comparator in _LIST_COMPARATORS:
            if token.kind != "lparen":
                raise _error(f"Expected a parenthesized list of quoted strings after {comparator}, "
                             f"found '{token.text}'")
            return self.string_list(type_, key)
        self.i += 1
        if token.kind not in ("string", "dquote"):
            raise _error(f"Expected a quoted string value for {type_} '{key}' (e.g. 'my-value'). "
                         f"Got value {token.text}")
        return strip_quotes(token.text)

    def clause(self) -> Clause:
        type_, key, ident = self.identifier(for_order_by=False)
        comparator = self.comparator()
        allowed = self.grammar.comparators(type_, key)
        if comparator in _NULL_COMPARATORS and type_ not in self.grammar.NULL_TYPES:
            raise _error(f"IS NULL / IS NOT NULL is only supported for tags and params, not for "
                         f"'{type_}' '{key}'")
        if comparator not in allowed:
            raise _error(f"Invalid comparator '{comparator}' for '{ident.text}': not one of {sorted(allowed)}")
        value = None if comparator in _NULL_COMPARATORS else self.value(type_, key, comparator)
        return Clause(type_, self.grammar.KEY_ALIASES.get(key, key), comparator, value)

    def filter(self) -> list[Clause]:
        clauses: list[Clause] = []
        while self.peek() is not None:
            # MLflow tolerates stray ANDs ("a > 1 AND"), so do we.
            if self.is_keyword(self.peek(), "AND"):
                self.i += 1
                continue
            if clauses and not self.is_keyword(self.tokens[self.i - 1], "AND"):
                raise self.unexpected(self.tokens[self.i], "AND")
            clauses.append(self.clause())
        return clauses

    def order_by(self) -> OrderBy:
        type_, key, _ = self.identifier(for_order_by=True)
        ascending = True
        token = self.peek()
        if token is not None:
            self.i += 1
            if not self.is_keyword(token, "ASC", "DESC"):
                raise _error(f"Invalid order_by clause '{self.text}'. Could not be parsed: unexpected "
                             f"'{token.text}' at position {token.pos}.")
            ascending = token.text.upper() == "ASC"
        if self.peek() is not None:
            raise _error(f"Invalid order_by clause '{self.text}'. Could not be parsed: unexpected "
                         f"'{self.peek().text}'.")
        return OrderBy(type_, self.grammar.KEY_ALIASES.get(key, key), ascending)


def parse_filter(filter_string: str | None, grammar: RunSearchGrammar = RUNS) -> list[Clause]:
    """Parse a search filter (``SearchUtils.parse_search_filter``); "" or None means no filter."""
    if not filter_string or not filter_string.strip():
        return []
    return _Parser(filter_string, grammar, "filter").filter()


def parse_order_by(order_by: str, grammar: RunSearchGrammar = RUNS) -> OrderBy:
    """Parse one order_by item (``SearchUtils.parse_order_by_for_search_runs``)."""
    if not isinstance(order_by, str) or not order_by.strip():
        raise _error(f"Invalid order_by clause '{order_by}'. Could not be parsed.")
    return _Parser(order_by, grammar, "order_by clause").order_by()
