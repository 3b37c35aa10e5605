"""Response shapes of the agreement endpoint."""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    error: str
    code: str
    details: Any = None


class AgreementOut(Schema):
    version: int
    title: str
    body: str
    text_sha256: str
    published_at: str
    url: str
