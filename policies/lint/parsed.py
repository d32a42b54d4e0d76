"""Policy expressions, view and function definitions parsed with sqlglot (postgres), and the
questions the lint rules ask of the trees."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

DIALECT = "postgres"
COMPARISONS = (exp.EQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
JSON_EXTRACTIONS = (exp.JSONExtract, exp.JSONExtractScalar, exp.JSONBExtract, exp.JSONBExtractScalar)
# sqlglot models these as functions; for the rules they are operators or syntax, not calls.
_NOT_CALLS = (exp.Connector, exp.Cast, exp.Collate, exp.Any, exp.All, exp.Case, exp.If, exp.Array)
_IDENTIFIER_TOKENS = (TokenType.VAR, TokenType.IDENTIFIER)


class Unparsable(Exception):
    """sqlglot could not parse a policy expression or a definition."""


def expression(text: str) -> exp.Expression:
    """TEXT (a policy's USING or WITH CHECK as pg_policies deparses it) as a tree."""
    try:
        tree = sqlglot.parse_one(text, read=DIALECT)
    except SqlglotError as error:
        raise Unparsable(str(error).splitlines()[0]) from None
    if tree is None:
        raise Unparsable("empty expression")
    return tree


def _statements(text: str) -> list[exp.Expression]:
    try:
        return [tree for tree in sqlglot.parse(text, read=DIALECT) if tree is not None]
    except SqlglotError as error:
        raise Unparsable(str(error).splitlines()[0]) from None


def tables_read(definition: str, language: str = "sql") -> set[tuple[str, str]]:
    """The (schema, table) names a view definition or a function body reads; schema is '' when
    unqualified. SQL is parsed; PL/pgSQL is not SQL, so its tokens are searched for qualified
    names (schema.table), which over-reports function names but never misses a qualified table."""
    if language == "plpgsql":
        try:
            tokens = Dialect.get_or_raise(DIALECT).tokenize(definition)
        except SqlglotError as error:
            raise Unparsable(str(error).splitlines()[0]) from None
        return {
            (_folded(first), _folded(third))
            for first, dot, third in zip(tokens, tokens[1:], tokens[2:], strict=False)
            if first.token_type in _IDENTIFIER_TOKENS
            and dot.token_type == TokenType.DOT
            and third.token_type in _IDENTIFIER_TOKENS
        }
    return {
        (table.db, table.name)
        for tree in _statements(definition)
        for table in tree.find_all(exp.Table)
        if table.name
    }


def _folded(token: Token) -> str:
    """An identifier as PostgreSQL stores it: unquoted names fold to lower case."""
    return token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower()


def _bare(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Paren, exp.Collate)):
        node = node.this
    return node


def _in_subquery(node: exp.Expression) -> bool:
    return node.find_ancestor(exp.Select) is not None


def call_name(node: exp.Expression) -> str | None:
    """The (schema-qualified when written so) lower-case name of the function NODE calls."""
    if isinstance(node, exp.Anonymous):
        parent = node.parent
        if (
            isinstance(parent, exp.Dot)
            and parent.expression is node
            and isinstance(parent.this, exp.Identifier)
        ):
            return f"{parent.this.name.lower()}.{node.name.lower()}"
        return node.name.lower()
    if isinstance(node, exp.Func) and not isinstance(node, _NOT_CALLS):
        return node.sql_name().lower()
    return None


def _calls(tree: exp.Expression) -> Iterator[tuple[str, exp.Expression]]:
    for node in tree.walk():
        name = call_name(node)
        if name:
            yield name, node


def per_row_calls(tree: exp.Expression, names: Iterable[str]) -> list[str]:
    """The calls to NAMES not wrapped in a sub-select: evaluated for every row, not once."""
    wanted = set(names)
    return sorted({name for name, node in _calls(tree) if name in wanted and not _in_subquery(node)})


def always_true(tree: exp.Expression) -> bool:
    """Whether TREE admits every row: the literal true, or an OR with a branch that is."""
    node = _bare(tree)
    if isinstance(node, exp.Boolean):
        return node.this is True
    if isinstance(node, exp.Or):
        return always_true(node.left) or always_true(node.right)
    if isinstance(node, exp.And):
        return always_true(node.left) and always_true(node.right)
    return False


def _called(node: exp.Expression) -> str | None:
    """The function NODE evaluates to: a call, maybe schema-qualified, maybe in a sub-select."""
    node = _bare(node)
    if (
        isinstance(node, exp.Subquery)
        and isinstance(node.this, exp.Select)
        and len(node.this.expressions) == 1
    ):
        node = _bare(node.this.expressions[0].unalias())
    if isinstance(node, exp.Dot):
        node = node.expression
    return call_name(node)


def null_checks_in_or(tree: exp.Expression, names: Iterable[str]) -> list[str]:
    """The calls to NAMES that a top-level OR branch of TREE tests with `IS NULL`: true for an
    anonymous caller, so that branch admits every row to them."""
    wanted = set(names)
    found = []
    branches = [_bare(tree)]
    while any(isinstance(b, exp.Or) for b in branches):
        branches = [part for b in branches for part in ((b.left, b.right) if isinstance(b, exp.Or) else (b,))]
        branches = [_bare(b) for b in branches]
    if len(branches) < 2:
        return []
    for branch in branches:
        if (
            isinstance(branch, exp.Is)
            and isinstance(branch.expression, exp.Null)
            and not branch.args.get("negate")
        ):
            name = _called(branch.this)
            if name in wanted:
                found.append(name)
    return sorted(set(found))


def array_column_memberships(tree: exp.Expression) -> list[str]:
    """The array columns TREE tests membership of as `value = ANY (column)`."""
    found = []
    for node in tree.find_all(exp.Any):
        target = _bare(node.this)
        if isinstance(node.parent, exp.EQ) and isinstance(target, exp.Column):
            found.append(target.sql(DIALECT))
    return sorted(set(found))


def row_columns(tree: exp.Expression) -> set[str]:
    """The columns of the policy's own row TREE reads (those outside any sub-select)."""
    return {column.name.lower() for column in tree.find_all(exp.Column) if not _in_subquery(column)}


def wrapping_calls(tree: exp.Expression, columns: Iterable[str]) -> list[str]:
    """The functions TREE applies to one of the row's COLUMNS (outside sub-selects)."""
    wanted = set(columns)
    return sorted(
        {
            name
            for name, node in _calls(tree)
            if not _in_subquery(node)
            and any(
                column.name.lower() in wanted and not _in_subquery(column)
                for column in node.find_all(exp.Column)
            )
        }
    )


def _pseudo_constant(node: exp.Expression) -> bool:
    return not row_columns(node)


def _bare_column(side: exp.Expression, columns: set[str]) -> bool:
    side = _bare(side)
    return isinstance(side, exp.Column) and side.name.lower() in columns and not _in_subquery(side)


def _indexable_comparison(node: exp.Expression, columns: set[str]) -> bool:
    if isinstance(node, COMPARISONS):
        return (_bare_column(node.this, columns) and _pseudo_constant(node.expression)) or (
            _bare_column(node.expression, columns) and _pseudo_constant(node.this)
        )
    if isinstance(node, exp.Between):
        return (
            _bare_column(node.this, columns)
            and _pseudo_constant(node.args["low"])
            and _pseudo_constant(node.args["high"])
        )
    if isinstance(node, exp.In):
        values = [*node.expressions, *filter(None, [node.args.get("query")])]
        return _bare_column(node.this, columns) and all(_pseudo_constant(v) for v in values)
    return False


_HOLDS = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
}


def _excludes(node: exp.Expression, column: str, value: str) -> bool:
    """Whether NODE is false for every row whose COLUMN is VALUE (`bucket_id < 'x'` for 'x')."""
    node = _bare(node)
    if isinstance(node, exp.And):
        return _excludes(node.left, column, value) or _excludes(node.right, column, value)
    holds = _HOLDS.get(type(node))
    if holds is None:
        return False
    literal = _bare(node.expression)
    while isinstance(literal, exp.Cast):
        literal = literal.this
    if not (_bare_column(node.this, {column}) and isinstance(literal, exp.Literal) and literal.is_string):
        return False
    # Text compared byte-wise, as the "C" collation the Storage API indexes with.
    return not holds(value.encode(), literal.this.encode())


def narrowed_by_index(
    tree: exp.Expression, columns: Iterable[str], unless: tuple[str, str] | None = None
) -> bool:
    """Whether every row TREE admits must match a comparison of one of COLUMNS, bare, with a
    per-statement value: a condition an index on the column can serve (each OR branch needs one).
    With UNLESS = (column, value), a branch that admits no row with that value needs none."""
    wanted = set(columns)
    node = _bare(tree)
    if unless and _excludes(node, *unless):
        return True
    if isinstance(node, exp.Or):
        return narrowed_by_index(node.left, wanted, unless) and narrowed_by_index(node.right, wanted, unless)
    if isinstance(node, exp.And):
        return narrowed_by_index(node.left, wanted, unless) or narrowed_by_index(node.right, wanted, unless)
    return _indexable_comparison(node, wanted)


def _json_key(literal: exp.Literal) -> bool:
    parent = literal.parent
    while isinstance(parent, (exp.Cast, exp.Paren)):
        parent = parent.parent
    return isinstance(parent, JSON_EXTRACTIONS)


def reads_json_key(tree: exp.Expression, key: str, columns: Iterable[str] = ()) -> bool:
    """Whether TREE extracts KEY from a JSON value (`-> 'key'`, `->> 'key'`, `#>> '{key,…}'`)
    or reads one of COLUMNS anywhere, sub-selects included."""
    names = {c.lower() for c in columns}
    for node in tree.walk():
        if isinstance(node, exp.JSONPathKey) and node.this == key:
            return True
        if isinstance(node, exp.Literal) and node.is_string and _json_key(node):
            text = node.this
            path = text[1:-1].split(",") if text.startswith("{") and text.endswith("}") else [text]
            if key in (part.strip().strip('"') for part in path):
                return True
        if isinstance(node, exp.Identifier) and node.name.lower() in names:
            return True
    return False


def equalities(tree: exp.Expression, column: str) -> list[str]:
    """The string literals TREE compares COLUMN of the row to with `=` (e.g. bucket ids)."""
    values = []
    for node in tree.find_all(exp.EQ):
        for side, other in ((node.this, node.expression), (node.expression, node.this)):
            side, other = _bare(side), _bare(other)
            while isinstance(other, exp.Cast):
                other = other.this
            if (
                isinstance(side, exp.Column)
                and side.name.lower() == column
                and not _in_subquery(side)
                and isinstance(other, exp.Literal)
                and other.is_string
            ):
                values.append(other.this)
    return sorted(set(values))
