"""Plain reads of model rows, for the few reads on the hottest paths (every submission, every scope check).

    grants = rows.fetch(
        RoleGrant, "t.user_id = %s AND t.valid_from <= %s", [user.pk, today],
        related=("place", "building"), order_by="t.path, t.role",
    )

Builds the statement once per process for each shape (model, where, related, fields, order, limit) and runs
it as one plain statement; the rows become model instances with `Model.from_db`, the related ones cached on
them as `select_related` would (a null foreign key caches None), every value through the same database
converters as the ORM's. On this machine the ORM spends 0.5–1 ms of CPU compiling a small query and the
database 0.1 ms answering it (bench/results/requests.md); this spends about 0.1 ms.

`related` names foreign keys of the model, or of a related row after it with `__` ("place", "place__parent").
`where` and `order_by` are SQL over the main table's columns as `t.<column>` (the related tables are r0, r1
… in the order of `related`); parameters are `%s`. Values for dates and times go through `param()` first
(SQLite keeps them as text). Anything with more shape than this belongs in the ORM.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime

from django.db import DEFAULT_DB_ALIAS, connection, connections

_shapes: dict[tuple, tuple[str, list]] = {}


def param(value):
    """A date or datetime as the database compares it (SQLite: text in the ORM's format)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _converters(field, alias: str) -> list:
    """The ORM's converters of one column, each with the column expression it is called with."""
    col = field.get_col(alias)
    return [(c, col) for c in connection.ops.get_db_converters(col) + col.get_db_converters(connection)]


def _part(model, alias: str, fields: Sequence[str] | None) -> tuple[list[str], tuple[str, ...], list]:
    """SELECT columns, attnames (model field order, as from_db wants) and converters of one table."""
    qn = connection.ops.quote_name
    chosen = [f for f in model._meta.concrete_fields if not fields or f.attname in fields or f.primary_key]
    columns = [f"{alias}.{qn(f.column)}" for f in chosen]
    converters = [(i, c, col) for i, f in enumerate(chosen) for c, col in _converters(f, alias)]
    return columns, tuple(f.attname for f in chosen), converters


def _shape(model, where, related, fields, order_by, limit) -> tuple[str, list]:
    key = (connection.vendor, model, where, related, fields, order_by, limit)
    shape = _shapes.get(key)
    if shape is not None:
        return shape
    qn = connection.ops.quote_name
    columns, attnames, converters = _part(model, "t", fields)
    # model, field, attnames, converters, start, pk position, the part it hangs on (None: the row's own)
    parts = [(model, None, attnames, converters, 0, 0, None)]
    joins = []
    aliases = {"": ("t", model, 0)}  # a related name → (its table alias, its model, its part)
    for n, name in enumerate(related):
        base, _, last = name.rpartition("__")  # "place__parent": the place's parent (after "place")
        base_alias, base_model, base_part = aliases[base]
        field = base_model._meta.get_field(last)
        other = field.related_model
        alias = f"r{n}"
        cols, names, convs = _part(other, alias, None)
        pk_at = names.index(other._meta.pk.attname)
        parts.append((other, field, names, convs, len(columns), pk_at, base_part))
        aliases[name] = (alias, other, len(parts) - 1)
        columns += cols
        joins.append(
            f"LEFT JOIN {qn(other._meta.db_table)} {alias} "
            f"ON {alias}.{qn(field.target_field.column)} = {base_alias}.{qn(field.column)}"
        )
    # the where and order are the caller's code, never user input (values are parameters)
    sql = f"SELECT {', '.join(columns)} FROM {qn(model._meta.db_table)} t {' '.join(joins)} WHERE {where}"  # noqa: S608
    if order_by:
        sql += f" ORDER BY {order_by}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    shape = _shapes[key] = (sql, parts)
    return shape


def _instance(conn, model, names, converters, values: list):
    for i, convert, col in converters:
        values[i] = convert(values[i], col, conn)
    return model.from_db(conn.alias, names, values)


def iterate(
    model,
    where: str,
    params: Sequence,
    *,
    related: tuple[str, ...] = (),
    fields: tuple[str, ...] | None = None,
    order_by: str = "",
    limit: int | None = None,
) -> Iterator:
    """The rows of `model` matching `where`, as instances (with `fields`: only those, the rest deferred;
    the primary key always), with the `related` foreign keys' rows cached on them. The statement runs
    when the loop starts and reads every row; each instance is made when the loop reaches it (a search
    that stops early makes few)."""
    conn = connections[DEFAULT_DB_ALIAS]  # the thread's connection itself, not the proxy (read often below)
    sql, parts = _shape(model, where, tuple(related), tuple(fields) if fields else None, order_by, limit)
    with conn.cursor() as cursor:
        cursor.execute(sql, [param(p) for p in params])
        raw = cursor.fetchall()
    (_model, _field, names, converters, *_rest), *joined = parts
    width = len(names)
    for row in raw:
        made = [_instance(conn, model, names, converters, list(row[:width]))]
        for other, field, other_names, other_converters, start, pk_at, on in joined:
            values = list(row[start : start + len(other_names)])
            rel = (
                None
                if values[pk_at] is None
                else _instance(conn, other, other_names, other_converters, values)
            )
            made.append(rel)
            if made[on] is not None:  # a null foreign key caches None; nothing hangs on a missing row
                field.set_cached_value(made[on], rel)
        yield made[0]


def fetch(model, where: str, params: Sequence, **kwargs) -> list:
    """All of `iterate` as a list."""
    return list(iterate(model, where, params, **kwargs))


def first(model, where: str, params: Sequence, **kwargs):
    """The first row of `fetch`, or None (give an `order_by` when more than one can match)."""
    found = fetch(model, where, params, limit=1, **kwargs)
    return found[0] if found else None
