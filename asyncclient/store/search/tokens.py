"""The tokenizer shared by the ``search_runs`` / ``search_experiments`` filter and order_by parsers.

MLflow tokenizes with ``sqlparse`` (``mlflow/utils/search_utils.py``); we accept the same surface syntax
with one regular expression, so nothing the user writes ever reaches SQL as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from asyncclient.exceptions import MlflowException

KEYWORDS = {"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "ASC", "DESC"}

_BACKTICK = r"`[^`]*`"
_DQUOTE = r'"(?:[^"\\]|\\.)*"'
_SQUOTE = r"'(?:''|\\.|[^'\\])*'"
_WORD = r"[^\W\d]\w*"
# entity.key, where the key is dotted words or a quoted name; or a lone word / backticked name.
_IDENT = rf"(?:{_WORD}|{_BACKTICK})(?:\.(?:\w+(?:\.\w+)*|{_BACKTICK}|{_DQUOTE}))?"
_NUMBER = r"-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?(?!\w)"

_TOKEN_RE = re.compile(
    rf"""(?P<ws>\s+)
       |(?P<number>{_NUMBER})
       |(?P<ident>{_IDENT})
       |(?P<squote>{_SQUOTE})
       |(?P<dquote>{_DQUOTE})
       |(?P<op><=|>=|!=|<>|==|=|<|>)
       |(?P<lparen>\()
       |(?P<rparen>\))
       |(?P<comma>,)""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, ident, keyword, string, dquote, op, lparen, rparen, comma
    text: str  # the source text of the token
    pos: int


def tokenize(text: str, what: str = "filter") -> list[Token]:
    """Split ``text`` into tokens; an unknown character raises INVALID_PARAMETER_VALUE naming it."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise MlflowException.invalid_parameter_value(
                f"Invalid {what} '{text}': unexpected character {text[pos]!r} at position {pos}."
            )
        kind = match.lastgroup
        value = match.group()
        if kind == "ident" and value.upper() in KEYWORDS:
            kind = "keyword"
        elif kind == "squote":
            kind = "string"
        if kind != "ws":
            tokens.append(Token(kind, value, pos))
        pos = match.end()
    return tokens


def strip_quotes(text: str) -> str:
    """The content between matching quotes. As MLflow, escapes inside are kept as written."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def split_identifier(text: str) -> tuple[str | None, str]:
    """``metrics.`a b``` -> ("metrics", "a b"); a bare ``start_time`` -> (None, "start_time")."""
    if text.startswith("`"):
        end = text.index("`", 1)
        entity, rest = text[1:end], text[end + 1:]
        return (entity, strip_quotes(rest[1:])) if rest.startswith(".") else (None, entity)
    if "." not in text:
        return None, strip_quotes(text)
    entity, key = text.split(".", 1)
    return entity, strip_quotes(key)
