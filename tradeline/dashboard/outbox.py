"""The admin's Outbox (development only): the mail the shop sent, read back from the file backend.

In development Django writes every message to a file under EMAIL_FILE_PATH (var/outbox/; see
config/settings/base.py) instead of printing it in the terminal. This page lists those messages,
newest first, and shows one with its HTML part rendered (in a sandboxed frame) or its plain text.
Anywhere else (tests, production, another mail backend) the pages answer 404.
"""

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
SEPARATOR = b"\n" + b"-" * 79 + b"\n"  # what the file backend writes after each message
_FILE_NAME = re.compile(r"^[\w.-]+\.log$")
PAGE_SIZE = 200


@dataclass(frozen=True)
class OutboxMessage:
    file: str
    index: int
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    @property
    def sender(self) -> str:
        return str(self.message.get("From", ""))

    @property
    def date(self):
        value = self.message.get("Date")
        return getattr(value, "datetime", None)

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


def outbox_enabled() -> bool:
    return bool(getattr(settings, "IS_DEVELOPMENT", False)) and settings.EMAIL_BACKEND == FILE_BACKEND


def _folder() -> Path:
    return Path(settings.EMAIL_FILE_PATH)


def _messages_in(file: Path) -> list[OutboxMessage]:
    chunks = [chunk for chunk in file.read_bytes().split(SEPARATOR) if chunk.strip()]
    return [OutboxMessage(file=file.name, index=i,
                          message=email.message_from_bytes(chunk, policy=email.policy.default))
            for i, chunk in enumerate(chunks)]


def outbox_messages() -> list[OutboxMessage]:
    """Every message in the outbox folder, newest file first (one file per mail connection)."""
    folder = _folder()
    if not folder.is_dir():
        return []
    files = sorted((f for f in folder.iterdir() if _FILE_NAME.match(f.name) and f.is_file()),
                   key=lambda f: (f.stat().st_mtime_ns, f.name), reverse=True)
    found: list[OutboxMessage] = []
    for file in files:
        found.extend(reversed(_messages_in(file)))
    return found


def outbox_message(file: str, index: int) -> OutboxMessage | None:
    if not _FILE_NAME.match(file):
        return None
    candidate = _folder() / file
    if not candidate.is_file():
        return None
    messages = _messages_in(candidate)
    return messages[index] if 0 <= index < len(messages) else None


def _guard() -> None:
    if not outbox_enabled():
        raise Http404("The outbox exists in development only (mail written to files under var/outbox/).")


def outbox_list(request: HttpRequest) -> HttpResponse:
    _guard()
    messages = outbox_messages()
    context = {**admin.site.each_context(request), "title": "Outbox", "messages_shown": messages[:PAGE_SIZE],
               "total": len(messages), "folder": _folder(), "page_size": PAGE_SIZE}
    return TemplateResponse(request, "admin/outbox/list.html", context)


def outbox_detail(request: HttpRequest, file: str, index: int) -> HttpResponse:
    _guard()
    message = outbox_message(file, index)
    if message is None:
        raise Http404("No such message in the outbox.")
    context = {**admin.site.each_context(request), "title": message.subject or "(no subject)", "mail": message}
    return TemplateResponse(request, "admin/outbox/detail.html", context)


urlpatterns = [
    path("", admin.site.admin_view(outbox_list), name="outbox"),
    path("<str:file>/<int:index>/", admin.site.admin_view(outbox_detail), name="outbox-message"),
]
