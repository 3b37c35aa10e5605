"""The admin's Outbox: development mail written to files, listed and shown in the dashboard."""

import os
import subprocess
import sys

import pytest
from django.core.mail import EmailMultiAlternatives, get_connection, send_mail

from tradeline.dashboard.outbox import outbox_messages
from tradeline.testing.factories import make_admin

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"


@pytest.fixture
def outbox_dir(settings, tmp_path):
    settings.IS_DEVELOPMENT = True
    settings.EMAIL_BACKEND = FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"
    return tmp_path / "outbox"


@pytest.fixture
def admin_client_logged_in(client, db):
    client.force_login(make_admin())
    return client


def _send_two():
    send_mail("Your order TLM-2612-00001 is confirmed", "Thank you.\nTotal: $1,200.00",
              "orders@tradeline.local", ["ann@example.com"])
    message = EmailMultiAlternatives("New sale: order TLM-2612-00001", "plain part", "orders@tradeline.local",
                                     ["broker@demo.local"], connection=get_connection())
    message.attach_alternative("<h1>New sale</h1><p>You earned <b>$300.00</b>.</p>", "text/html")
    message.send()


def test_outbox_lists_the_mail_newest_first(outbox_dir, admin_client_logged_in):
    _send_two()

    page = admin_client_logged_in.get("/admin/outbox/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "Outbox · 2 messages" in html
    assert html.index("New sale: order TLM-2612-00001") < html.index("Your order TLM-2612-00001 is confirmed")
    assert "ann@example.com" in html and "broker@demo.local" in html
    assert 'href="/admin/outbox/"' in admin_client_logged_in.get("/admin/").content.decode()  # the nav link


def test_outbox_message_shows_the_html_part_sandboxed_or_the_text(outbox_dir, admin_client_logged_in):
    _send_two()
    rich, plain = outbox_messages()  # newest first
    assert plain.subject == "Your order TLM-2612-00001 is confirmed"

    text_page = admin_client_logged_in.get(f"/admin/outbox/{plain.file}/{plain.index}/").content.decode()
    rich_page = admin_client_logged_in.get(f"/admin/outbox/{rich.file}/{rich.index}/").content.decode()

    assert '<pre class="tl-mail-text"' in text_page and "Thank you.\nTotal: $1,200.00" in text_page
    assert ('sandbox title="Message (HTML)" srcdoc="&lt;h1&gt;New sale&lt;/h1&gt;&lt;p&gt;You earned '
            '&lt;b&gt;$300.00&lt;/b&gt;.&lt;/p&gt;"') in rich_page
    assert admin_client_logged_in.get(f"/admin/outbox/{plain.file}/5/").status_code == 404
    assert admin_client_logged_in.get("/admin/outbox/..%2Fsecret_key/0/").status_code == 404


def test_outbox_is_for_signed_in_admins_only(outbox_dir, client, db):
    response = client.get("/admin/outbox/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("development, backend", [(False, FILE_BACKEND),
                                                  (True, "django.core.mail.backends.smtp.EmailBackend")])
def test_outbox_exists_in_development_with_the_file_backend_only(settings, tmp_path, admin_client_logged_in,
                                                                 development, backend):
    settings.IS_DEVELOPMENT, settings.EMAIL_BACKEND, settings.EMAIL_FILE_PATH = development, backend, tmp_path

    assert admin_client_logged_in.get("/admin/outbox/").status_code == 404
    assert 'href="/admin/outbox/"' not in admin_client_logged_in.get("/admin/").content.decode()


def test_development_writes_mail_to_files_under_var(tmp_path):
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup(); "
            "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)")
    env = {**os.environ, "TRADELINE_ENV": "development", "TRADELINE_VAR_DIR": str(tmp_path)}
    env.pop("EMAIL_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True).stdout.split()

    assert out == [FILE_BACKEND, str(tmp_path / "outbox")]
