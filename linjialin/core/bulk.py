"""Fast bulk writes for roster imports and data generation.

Django's bulk_create spends most of its time compiling SQL per object; for tens of thousands of rows
that dominates. These helpers write the same rows (values prepared by each field's own
get_db_prep_save, defaults and auto_now filled in as the ORM would) with one prepared statement:
executemany on SQLite (in-process, no round trips), COPY on PostgreSQL (one stream), multi-row
VALUES elsewhere. They join the caller's transaction; callers are services that have already
validated everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone

# Field types whose Python values every driver takes as they are; all others go through the field.
PLAIN_TYPES = {
    "CharField", "SlugField", "TextField", "BooleanField", "ForeignKey", "OneToOneField", "AutoField",
    "BigAutoField", "IntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField",
    "BigIntegerField",
}
_GIVEN = object()  # marks "each row gives this value" in an insert plan


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _converter(field):
    if field.get_internal_type() in PLAIN_TYPES:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


def insert_rows(model, objs: list, *, assign_keys: bool = False, batch: int = 5000) -> list:
    """INSERT `objs` (model instances, or dicts of attname → value) into `model`'s table.

    A value a row does not give takes the field default (auto_now/auto_now_add: the time of the
    call). With `assign_keys`, auto primary keys are numbered from the table's current maximum and
    written back to the objects (the caller must be the only writer of that table in its
    transaction), and PostgreSQL's sequence is moved past them. Without it the database numbers
    the rows and nothing is written back.
    """
    if not objs:
        return objs
    meta = model._meta
    auto_pk = meta.pk.get_internal_type() in ("AutoField", "BigAutoField")
    as_dicts = isinstance(objs[0], dict)
    if auto_pk and assign_keys:
        first = (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        for i, obj in enumerate(objs):
            if as_dicts:
                obj[meta.pk.attname] = first + i
            else:
                obj.pk = first + i
    now = timezone.now()
    plan = []  # (attname, column, constant or _GIVEN, converter, default)
    stamped = []
    for f in meta.concrete_fields:
        if f.primary_key and auto_pk and not assign_keys:
            continue
        convert = _converter(f)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            plan.append((f.attname, f.column, convert(now) if convert else now, None, None))
            stamped.append(f.attname)
        else:
            plan.append((f.attname, f.column, _GIVEN, convert, f.get_default()))
    params = []
    for obj in objs:
        d = obj if as_dicts else obj.__dict__
        row = []
        for attname, _column, const, convert, default in plan:
            if const is not _GIVEN:
                row.append(const)
                continue
            value = d.get(attname, default)
            row.append(convert(value) if convert else value)
        params.append(row)
    _write(meta.db_table, [column for _a, column, *_ in plan], params, batch)
    if auto_pk and assign_keys:
        reset_sequences(model)
    if not as_dicts:
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias
            for attname in stamped:
                setattr(obj, attname, now)
    return objs


def _write(table: str, columns: list[str], params: list[list], batch: int) -> None:
    qn = connection.ops.quote_name
    column_sql = ", ".join(qn(c) for c in columns)
    sql = f"INSERT INTO {qn(table)} ({column_sql}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_sql = f"COPY {qn(table)} ({column_sql}) FROM STDIN"
            for part in chunks(params, batch):
                with cursor.cursor.copy(copy_sql) as copy:
                    for row in part:
                        copy.write_row(row)
        elif connection.vendor == "sqlite":
            for part in chunks(params, batch):
                cursor.executemany(sql, part)
        else:  # other client/server databases: executemany is a round trip per row; multi-row VALUES
            per = max(1, min(1000, 30000 // len(columns)))
            one = f"({', '.join(['%s'] * len(columns))})"
            head = sql[: sql.index(" VALUES ") + len(" VALUES ")]
            for part in chunks(params, per):
                cursor.execute(head + ", ".join([one] * len(part)), [v for row in part for v in row])


def update_rows(model, fields: Sequence[str], rows: list[tuple], *, batch: int = 5000) -> None:
    """UPDATE … SET fields WHERE pk = the last value of each row tuple, one executemany per batch."""
    if not rows:
        return
    meta = model._meta
    qn = connection.ops.quote_name
    converters = [_converter(meta.get_field(name)) for name in fields]
    sets = ", ".join(f"{qn(meta.get_field(name).column)} = %s" for name in fields)
    sql = f"UPDATE {qn(meta.db_table)} SET {sets} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
    params = [
        tuple(c(v) if c else v for c, v in zip(converters, r[:-1], strict=True)) + (r[-1],) for r in rows
    ]
    with connection.cursor() as cursor:
        for part in chunks(params, batch):
            cursor.executemany(sql, part)


def reset_sequences(*model_classes) -> None:
    """After inserts with explicit keys: move PostgreSQL's sequences past them (SQLite needs nothing)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if statements:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
