"""Limits on a GraphQL document before it runs (MLflow's ``graphql_no_batching``): depth, total selections,
root fields and aliases per level, so one request cannot batch unbounded work."""

from __future__ import annotations

import os

from graphql.error import GraphQLError
from graphql.language.ast import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

MAX_DEPTH = 10
MAX_SELECTIONS = 1000
# MLflow's environment variables, honoured under the same names and defaults.
MAX_ROOT_FIELDS_ENV = "MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS"
MAX_ALIASES_ENV = "MLFLOW_SERVER_GRAPHQL_MAX_ALIASES"


def _limit(name: str) -> int:
    return int(os.environ.get(name, "10"))


def _fields_of(selection_set: SelectionSetNode, fragments: dict, seen: frozenset) -> tuple[list[FieldNode], int]:
    """The fields of one level, fragments flattened into it, and how many of them carry an alias."""
    fields: list[FieldNode] = []
    aliases = 0
    pending = list(selection_set.selections)
    seen = set(seen)
    while pending:
        node = pending.pop(0)
        if isinstance(node, FieldNode):
            fields.append(node)
            aliases += node.alias is not None
        elif isinstance(node, InlineFragmentNode) and node.selection_set:
            pending.extend(node.selection_set.selections)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            seen.add(node.name.value)
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                pending.extend(fragment.selection_set.selections)
    return fields, aliases


def check(document: DocumentNode) -> GraphQLError | None:
    """The error that refuses ``document``, or None when it is within every limit."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root_fields = max_aliases = selections = 0
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        stack = [(definition.selection_set, 1, frozenset())]
        while stack:
            selection_set, depth, seen = stack.pop()
            if depth > MAX_DEPTH:
                return GraphQLError(f"Query exceeds maximum depth of {MAX_DEPTH}")
            fields, aliases = _fields_of(selection_set, fragments, seen)
            max_aliases = max(max_aliases, aliases)
            for field in fields:
                root_fields += depth == 1
                selections += 1
                if selections > MAX_SELECTIONS:
                    return GraphQLError(f"Query exceeds maximum total selections of {MAX_SELECTIONS}")
                if field.selection_set:
                    stack.append((field.selection_set, depth + 1, seen))
    for what, value, env in (("root fields", root_fields, MAX_ROOT_FIELDS_ENV),
                             ("aliases", max_aliases, MAX_ALIASES_ENV)):
        if value > _limit(env):
            return GraphQLError(f"GraphQL queries should have at most {_limit(env)} {what}, got {value} {what}. "
                                f"To increase the limit, set the {env} environment variable.")
    return None
