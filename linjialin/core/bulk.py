"""Fast writes: roster imports and data generation, and the few writes on the hottest paths.

Django's bulk_create spends most of its time compiling SQL per object; for tens of thousands of rows
that dominates, and for the one request row of a submission it costs several times what the database
takes to write it. These helpers write the same rows (values prepared by each field's own
get_db_prep_save, defaults and auto_now filled in as the ORM would; the plan of fields once per process
and model): a few rows in one multi-row INSERT, more with executemany on SQLite (in-process, no round
trips), COPY on PostgreSQL (one stream), multi-row VALUES elsewhere. They join the caller's transaction;
callers are services that have already validated everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.core.management.color import no_style
from django.db import connection, models
from django.utils import timezone

# Field types whose Python values every driver takes as they are; all others go through the field.
PLAIN_TYPES = {
    "CharField",
    "SlugField",
    "TextField",
    "BooleanField",
    "ForeignKey",
    "OneToOneField",
    "AutoField",
    "BigAutoField",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "BigIntegerField",
}


def chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _converter(field):
    if field.get_internal_type() in PLAIN_TYPES:
        return None
    return lambda value: field.get_db_prep_save(value, connection)


@dataclass
class _Plan:
    """How to INSERT rows of one model: the fields written, each (attname, converter, field, stamped),
    the attnames stamped with the time of the call (auto_now, auto_now_add), and the statements."""

    fields: list
    stamped: list[str]
    columns: list[str]  # quoted, in the order of fields
    head: str  # INSERT INTO t (…) VALUES
    one: str  # (%s, …): one row's placeholders
    copy: str  # COPY t (…) FROM STDIN
    returning: str  # RETURNING the primary key


_plans: dict[tuple, _Plan] = {}


def _plan(model, with_pk: bool) -> _Plan:
    """Once per process, model and database."""
    key = (connection.vendor, model, with_pk)
    if key not in _plans:
        qn = connection.ops.quote_name
        meta = model._meta
        fields, stamped, columns = [], [], []
        for f in meta.concrete_fields:
            if f.primary_key and not with_pk:
                continue
            stamp = bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))
            fields.append((f.attname, _converter(f), f, stamp))
            columns.append(qn(f.column))
            if stamp:
                stamped.append(f.attname)
        column_sql = ", ".join(columns)
        _plans[key] = _Plan(
            fields=fields,
            stamped=stamped,
            columns=columns,
            head=f"INSERT INTO {qn(meta.db_table)} ({column_sql}) VALUES ",  # noqa: S608
            one=f"({', '.join(['%s'] * len(columns))})",
            copy=f"COPY {qn(meta.db_table)} ({column_sql}) FROM STDIN",
            returning=f" RETURNING {qn(meta.pk.column)}",
        )
    return _plans[key]


def _values(plan: _Plan, objs: list, as_dicts: bool, now) -> list[list]:
    """Each row's values in plan order: the value it gives, else the field default (taken once per
    call, as the rows of one call are written together); stamps are `now`."""
    params, defaults = [], {}
    for obj in objs:
        d = obj if as_dicts else obj.__dict__
        row = []
        for attname, convert, field, stamp in plan.fields:
            if stamp:
                value = now
            elif attname in d:
                value = d[attname]
            else:
                if attname not in defaults:
                    defaults[attname] = field.get_default()
                value = defaults[attname]
            row.append(convert(value) if convert else value)
        params.append(row)
    return params


def _saved(objs: list, stamped: list[str], now) -> None:
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
        for attname in stamped:
            setattr(obj, attname, now)


def _auto_pk(model) -> bool:
    return model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField")


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
    auto_pk = _auto_pk(model)
    as_dicts = isinstance(objs[0], dict)
    if auto_pk and assign_keys:
        first = (model.objects.aggregate(m=models.Max("pk"))["m"] or 0) + 1
        for i, obj in enumerate(objs):
            if as_dicts:
                obj[meta.pk.attname] = first + i
            else:
                obj.pk = first + i
    now = timezone.now()
    plan = _plan(model, with_pk=not auto_pk or assign_keys)
    _write(plan, _values(plan, objs, as_dicts, now), batch)
    if auto_pk and assign_keys:
        reset_sequences(model)
    if not as_dicts:
        _saved(objs, plan.stamped, now)
    return objs


def refresh_statistics() -> None:
    """After a bulk load on PostgreSQL: ANALYZE, so the next queries are planned for the rows now there.
    Rows written by a transaction still open are in no statistics until then (ANALYZE counts its own
    transaction's rows); without it, a query joining grants and places was planned for empty tables
    and took seconds per run. SQLite plans from its indexes: nothing to do."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def insert_one(model, obj) -> None:
    """INSERT one model instance with one plain statement, as `obj.save(force_insert=True)` would for a
    model with no save() of its own and no signals: defaults, auto_now stamps, the primary key numbered
    by the database (written back) unless `obj` gives it. For the writes on the hottest paths (every
    submission), where the ORM spends several times the database's time compiling the statement."""
    given = obj.pk is not None or not _auto_pk(model)
    now = timezone.now()
    plan = _plan(model, with_pk=given)
    returning = not given and connection.features.can_return_columns_from_insert
    sql = plan.head + plan.one + (plan.returning if returning else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, _values(plan, [obj], False, now)[0])
        if not given:
            obj.pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    _saved([obj], plan.stamped, now)


# Up to this many rows go in one multi-row INSERT (one statement, one round trip); more are streamed
# (COPY on PostgreSQL, executemany on SQLite).
FEW_ROWS = 50


def _write(plan: _Plan, params: list[list], batch: int) -> None:
    with connection.cursor() as cursor:
        if len(params) <= FEW_ROWS:
            cursor.execute(
                plan.head + ", ".join([plan.one] * len(params)), [v for row in params for v in row]
            )
        elif connection.vendor == "postgresql":
            for part in chunks(params, batch):
                with cursor.cursor.copy(plan.copy) as copy:
                    for row in part:
                        copy.write_row(row)
        elif connection.vendor == "sqlite":
            for part in chunks(params, batch):
                cursor.executemany(plan.head + plan.one, part)
        else:  # other client/server databases: executemany is a round trip per row; multi-row VALUES
            per = max(1, min(1000, 30000 // len(plan.fields)))
            for part in chunks(params, per):
                cursor.execute(
                    plan.head + ", ".join([plan.one] * len(part)), [v for row in part for v in row]
                )


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
