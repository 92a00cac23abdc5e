"""Coupon lookup by code uses the functional unique index on LOWER(code)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.promotions.selectors import find_by_code
from tests.factories import make_coupon

pytestmark = pytest.mark.django_db


def test_find_by_code_is_case_insensitive_and_trims() -> None:
    coupon = make_coupon("Save5")
    assert find_by_code("  sAVE5 ") == coupon
    assert find_by_code("SAVE") is None
    assert find_by_code("") is None
    assert find_by_code("X" * 41) is None


def test_find_by_code_uses_the_lower_code_index() -> None:
    """The lookup compares LOWER(code), which the unique index serves (code__iexact compiles
    to UPPER(code) = UPPER(%s), which would scan the table)."""
    for i in range(50):
        make_coupon(f"BULK{i}")
    with CaptureQueriesContext(connection) as queries:
        find_by_code("bulk7")
    sql = queries.captured_queries[0]["sql"]
    assert 'LOWER("promotions_coupon"."code")' in sql
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE promotions_coupon")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "promotions_coupon_code_ci_unique" in plan
