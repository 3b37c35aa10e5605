"""/api/docs works without internet: the Swagger UI comes from django-ninja's own static files."""

import pytest


@pytest.mark.django_db
def test_api_docs_load_swagger_from_our_own_static_files(client):
    page = client.get("/api/docs").content.decode()

    assert '<script src="/static/ninja/swagger-ui-bundle.js"></script>' in page
    assert '<link type="text/css" rel="stylesheet" href="/static/ninja/swagger-ui.css">' in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/static/ninja/swagger-ui-bundle.js", "/static/ninja/swagger-ui-init.js",
                                  "/static/ninja/swagger-ui.css"])
def test_swagger_assets_are_served_locally(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) > 1000
