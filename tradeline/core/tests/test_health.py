import pytest
from django.db.utils import OperationalError


@pytest.mark.django_db
def test_health_reports_database_and_cache(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "status": "ok"}


@pytest.mark.django_db
def test_health_is_503_when_database_is_down(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        raise OperationalError("connection refused")

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "down"


def test_unknown_api_path_is_json_404(client):
    response = client.get("/api/no/such/thing")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
