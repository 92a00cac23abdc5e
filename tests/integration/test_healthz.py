import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_database_and_cache_up(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}
    assert response["X-Request-ID"]
