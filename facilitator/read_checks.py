"""What a statement reads: the tables and bookkeeping columns (data_revision notes them for a kept page),
and, checked under test, whom: data_revision keeps a page of a few people while others' rows change only if
every read of a per-person table inside people_rows() filters on those people."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Select, Table, TextClause
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.expression import BinaryExpression, BindParameter, BooleanClauseList, Join
from sqlalchemy.sql.util import find_tables


def statement_reads(statement: Any, side_columns: dict[str, frozenset[str]], whole: str) -> frozenset[str]:
    """The tables a statement reads, with "table.bookkeeping" where it reads a table's side columns (by
    name or in a whole row); `whole` alone for text SQL, which cannot be looked into."""
    if statement is None or isinstance(statement, TextClause):
        return frozenset((whole,))
    tables = {t.name for t in find_tables(statement, include_joins=True, include_crud=True)}
    if not tables & side_columns.keys():
        return frozenset(tables)
    found = set()
    for element in visitors.iterate(statement):
        columns = [element] if isinstance(element, Column) else (
            [base for c in element.selected_columns for base in c.base_columns] if isinstance(element, Select) else [])
        for column in columns:
            table = getattr(column, "table", None)
            if isinstance(column, Column) and table is not None and column.name in side_columns.get(table.name, ()):
                found.add(f"{table.name}.bookkeeping")
    return frozenset(tables | found)


def filtered_to(statement: Any, params: Any, table: str, column: str, people: frozenset[int]) -> None:
    """Raise AssertionError unless every SELECT in the statement that reads the table has, among the
    conditions all its rows meet, `column` equal to one of these people or in a list of them (a bound
    value, or one the execution's `params` give)."""
    given = params if isinstance(params, dict) else {}
    for element in visitors.iterate(statement):
        if not isinstance(element, Select):
            continue
        froms = {t.name for f in element.get_final_froms() for t in _tables_of(f)}
        if table in froms and not any(_restricts(c, given, table, column, people) for c in _conjuncts(element.whereclause)):
            raise AssertionError(f"A read of {table} inside people_rows({sorted(people)}) does not filter its rows "
                                 f"on {column} among them: {element}")


def _tables_of(from_: Any) -> list[Table]:
    if isinstance(from_, Join):
        return _tables_of(from_.left) + _tables_of(from_.right)
    return [from_] if isinstance(from_, Table) else []


def _conjuncts(clause: Any) -> list[Any]:
    if clause is None:
        return []
    if isinstance(clause, BooleanClauseList) and clause.operator is operators.and_:
        return [c for inner in clause.clauses for c in _conjuncts(inner)]
    return [clause]


def _restricts(clause: Any, given: dict, table: str, column: str, people: frozenset[int]) -> bool:
    if not isinstance(clause, BinaryExpression) or clause.operator not in (operators.eq, operators.in_op):
        return False
    left, right = clause.left, clause.right
    if getattr(left, "key", None) != column or getattr(getattr(left, "table", None), "name", None) != table:
        return False
    if not isinstance(right, BindParameter):
        return False
    value = given.get(right.key, right.effective_value)
    values = value if isinstance(value, list | tuple | set | frozenset) else [value]
    return all(v in people for v in values)
