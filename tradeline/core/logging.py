"""Log formatting: JSON lines on request, and a filter that keeps secrets out of every line."""

import json
import logging
import re
from datetime import UTC, datetime

_SECRET_PATTERNS = [
    re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9]+"),
    re.compile(r"whsec_[A-Za-z0-9]+"),
    re.compile(r"tlm_(pk|sk)_[A-Za-z0-9_\-]+"),
    re.compile(r"ck_[A-Za-z0-9]{8,}|cs_[A-Za-z0-9]{20,}"),
    re.compile(r"(?i)(authorization|password|secret|api[_-]?key)(\"?\s*[:=]\s*\"?)[^\s\",]+"),
    re.compile(r"\b\d{13,19}\b"),  # anything that looks like a card number
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{2}-\d{7}\b"),  # an SSN/ITIN or an EIN as written
    re.compile(r"(?i)\b(tin|ssn|ein)(\"?\s*[:=]\s*\"?)[^\s\",]+"),
]


def redact(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2 and pattern.pattern.startswith("(?i)"):
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
    return text


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "method", "path", "status", "duration_ms"):
            if hasattr(record, key):
                payload[key] = getattr(record, key)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
