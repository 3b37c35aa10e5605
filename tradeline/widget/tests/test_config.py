import gzip
import json

import pytest

from tradeline.audit.models import ActivityLog
from tradeline.brokers.services import broker_keys_rotate, broker_set_password
from tradeline.core.errors import ValidationFailed
from tradeline.widget.models import WidgetTheme
from tradeline.widget.services import widget_theme_set
from tradeline.widget.views import widget_parts, widget_source

WIDGET_GZIP_BUDGET = 35 * 1024


pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_widget_js_stays_within_its_gzip_budget():
    size = len(gzip.compress(widget_source(), compresslevel=9))
    assert size <= WIDGET_GZIP_BUDGET, f"widget.js is {size} bytes gzipped"


def test_axe_core_is_a_test_asset_and_not_in_the_widget():
    assert "axe" not in widget_source().decode().lower()


def test_widget_parts_join_into_one_script_and_each_stays_small():
    parts = widget_parts()
    assert [p.name for p in parts][0] == "00-setup.js" and [p.name for p in parts][-1] == "90-api.js"
    assert all(len(p.read_text().splitlines()) <= 450 for p in parts)
    body = widget_source().decode()
    assert body.count("\n(function () {\n") == 1 and body.rstrip().endswith("})();")


@pytest.mark.django_db
def test_config_has_the_defaults_until_the_broker_sets_a_theme(client, make_broker):
    broker = make_broker(name="Dana", business_name="Dana Credit", website="https://dana.example")
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    response = client.get("/api/public/config", HTTP_X_API_KEY=key)
    assert response.status_code == 200
    assert response.json() == {
        "broker": {"id": str(broker.pk), "public_name": "Dana Credit"},
        "theme": {"title": "Seasoned tradelines", "primary_color": "#2563eb", "text_color": "#1f2937",
                  "background_color": "#ffffff", "font_family": "system", "corner_radius": 12, "columns": 0,
                  "default_sort": "price"},
        "return_urls": {"success_url": "", "cancel_url": ""},
    }


@pytest.mark.django_db
def test_config_returns_the_brokers_theme_and_return_urls(client, make_broker):
    broker = make_broker(name="Dana", business_name="")
    key = broker_keys_rotate(broker_id=broker.pk)["publishable_key"]
    widget_theme_set(broker=broker, title="  Dana's   lines ", primary_color="#7C3AED", font_family="serif",
                     corner_radius=4, columns=3, default_sort="-limit", success_url="https://dana.example/thanks",
                     cancel_url="https://dana.example/shop")
    body = client.get("/api/public/config", HTTP_X_API_KEY=key).json()
    assert body["broker"]["public_name"] == "Dana"
    assert body["theme"] == {"title": "Dana's lines", "primary_color": "#7c3aed", "text_color": "#1f2937",
                             "background_color": "#ffffff", "font_family": "serif", "corner_radius": 4,
                             "columns": 3, "default_sort": "-limit"}
    assert body["return_urls"] == {"success_url": "https://dana.example/thanks",
                                   "cancel_url": "https://dana.example/shop"}
    assert ActivityLog.objects.filter(action="broker.widget_theme_updated").count() == 1


@pytest.mark.django_db
def test_config_needs_a_valid_key(client, make_broker):
    make_broker()
    assert client.get("/api/public/config").status_code == 401
    bad = client.get("/api/public/config", HTTP_X_API_KEY="tlm_pk_nope_nope")
    assert (bad.status_code, bad.json()["code"]) == (401, "INVALID_API_KEY")


@pytest.mark.django_db
def test_invalid_theme_names_every_bad_field_and_saves_nothing(make_broker):
    broker = make_broker()
    with pytest.raises(ValidationFailed) as caught:
        widget_theme_set(broker=broker, primary_color="red;}body{display:none", text_color="#12345",
                         font_family="comic", corner_radius=99, columns=7, default_sort="random")
    assert caught.value.code == "VALIDATION_ERROR"
    assert [d["field"] for d in caught.value.details] == [
        "primary_color", "text_color", "font_family", "default_sort", "corner_radius", "columns"]
    with pytest.raises(ValidationFailed) as caught:
        widget_theme_set(broker=broker, success_url="javascript:alert(1)")
    assert caught.value.code == "INVALID_URL"
    assert WidgetTheme.objects.count() == 0


@pytest.mark.django_db
def test_portal_theme_page_saves_and_previews(client, make_broker, supplier_sim):
    supplier_sim.sync()
    broker = make_broker(email="theme@broker.test")
    broker_set_password(broker_id=broker.pk, password="theme-pass-12345")
    assert client.post("/portal/login/", {"email": "theme@broker.test", "password": "theme-pass-12345"}).status_code == 302
    page = client.get("/portal/theme/")
    assert page.status_code == 200
    html = page.content.decode()
    preview = json.loads(html.split('<script id="preview-data" type="application/json">')[1].split("</script>")[0])
    assert len(preview["tradelines"]) == 6
    assert set(preview["tradelines"][0]) >= {"card_id", "bank_name", "customer_price", "stock"}
    assert "price" not in preview["tradelines"][0]  # customer prices only, as the public price list
    assert '<script src="/widget.js"></script>' in html

    form = {"title": "Theme test", "primary_color": "#047857", "text_color": "", "background_color": "",
            "font_family": "rounded", "corner_radius": "8", "columns": "2", "default_sort": "posting",
            "success_url": "", "cancel_url": ""}
    assert client.post("/portal/theme/", form).status_code == 302
    theme = WidgetTheme.objects.get(broker=broker)
    assert (theme.primary_color, theme.font_family, theme.corner_radius, theme.columns, theme.default_sort) == (
        "#047857", "rounded", 8, 2, "posting")

    bad = client.post("/portal/theme/", {**form, "primary_color": "green", "corner_radius": "50"})
    assert bad.status_code == 422
    assert 'id="primary_color-error"' in bad.content.decode() and 'id="corner_radius-error"' in bad.content.decode()
    assert WidgetTheme.objects.get(broker=broker).primary_color == "#047857"
