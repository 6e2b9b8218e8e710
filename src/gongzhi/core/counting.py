"""Capped counts read in the same query as the rows they count."""

from __future__ import annotations

from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL


def capped_count(ids: QuerySet) -> RawSQL:
    """How many rows ``ids`` (a queryset of ids, already cut at the cap plus one) holds, as an expression:
    an uncorrelated subquery the database runs once, to annotate a page with or to put beside it. Raises
    ``EmptyResultSet`` when ``ids`` can match nothing."""
    sql, params = ids.query.sql_with_params()
    return RawSQL(f"SELECT COUNT(*) FROM ({sql}) counted", params, output_field=IntegerField())
