"""The base of every request schema: free text without control characters (422 otherwise)."""

from typing import ClassVar

from ninja import Schema
from pydantic import ValidationInfo, field_validator

from tradeline.core.text import control_characters


class TextInSchema(Schema):
    """Refuses control characters in every text field (and list of texts) of a request body.

    `multiline_fields` may keep newlines and tabs (notes, a postal address); `raw_text_fields` are checked by
    nobody here (passwords: whatever a user chose is compared, never shown).
    """

    multiline_fields: ClassVar[tuple[str, ...]] = ("notes", "address")
    raw_text_fields: ClassVar[tuple[str, ...]] = ("password",)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value, info: ValidationInfo):
        if info.field_name in cls.raw_text_fields:
            return value
        texts = [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)] \
            if isinstance(value, (list, tuple)) else []
        multiline = info.field_name in cls.multiline_fields
        found = sorted({char for text in texts for char in control_characters(text, multiline=multiline)})
        if found:
            raise ValueError(f"must not contain control characters (found {', '.join(found)})")
        return value
