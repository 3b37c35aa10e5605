"""Security headers: a Content-Security-Policy (django-csp) on the admin dashboard and the broker
portal, and Referrer-Policy / Permissions-Policy on every response.

The policy allows no inline script. Inline `<script>` blocks that ship in our own templates under
`admin/` and `portal/` are allowed one by one through their SHA-256 hash, computed once at start-up
from the template source (template tags inside the block, such as `{% url %}`, are rendered with an
empty context first). A block whose text depends on the request cannot match its hash and is
blocked by the browser — keep such data in `data-*` attributes or `json_script` instead.
"""

import base64
import functools
import hashlib
import logging
import re
from pathlib import Path

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.template import Context, Engine
from django.template.utils import get_app_template_dirs

logger = logging.getLogger(__name__)

CSP_PATH_PREFIXES = ("/admin/", "/portal/")
CSP_TEMPLATE_FOLDERS = ("admin", "portal")

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=()"
)

_INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.IGNORECASE | re.DOTALL)
_LOAD_TAG = re.compile(r"{%\s*load\s[^%]*%}")
_EXECUTABLE_TYPES = {"", "text/javascript", "application/javascript", "module"}


def _is_executable_inline(attrs: str) -> bool:
    if re.search(r"\ssrc\s*=", attrs, re.IGNORECASE):
        return False
    found = re.search(r"\stype\s*=\s*[\"']?([^\"'\s>]*)", attrs, re.IGNORECASE)
    return (found.group(1).lower() if found else "") in _EXECUTABLE_TYPES


def script_hash(body: str) -> str:
    """The CSP source expression ('sha256-...') that allows one inline script with exactly this text."""
    digest = hashlib.sha256(body.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def inline_script_hashes_in(source: str, *, engine: Engine, origin: str = "") -> list[str]:
    """Hashes of the executable inline scripts of one template source (rendered with an empty context)."""
    loads = "".join(_LOAD_TAG.findall(source))
    hashes = []
    for match in _INLINE_SCRIPT.finditer(source):
        if not _is_executable_inline(match.group("attrs")):
            continue
        body = match.group("body")
        if "{" in body:
            try:
                body = engine.from_string(loads + body).render(Context({}))
            except Exception:  # TemplateSyntaxError, a missing url name...: the block is simply not allowed
                logger.warning("inline script in %s could not be rendered for its CSP hash", origin or "?")
                continue
        hashes.append(script_hash(body))
    return hashes


def _template_roots() -> list[Path]:
    roots: list[Path] = []
    for config in settings.TEMPLATES:
        roots.extend(Path(d) for d in config.get("DIRS", ()))
    roots.extend(Path(d) for d in get_app_template_dirs("templates"))
    return roots


@functools.lru_cache(maxsize=1)
def project_inline_script_hashes() -> tuple[str, ...]:
    """Hashes of every inline script in the admin/ and portal/ templates (sorted, unique), computed
    once per process (start-up); with DEBUG the middleware recomputes them for every page."""
    engine = Engine.get_default()
    found: set[str] = set()
    for root in _template_roots():
        for folder in CSP_TEMPLATE_FOLDERS:
            for path in sorted((root / folder).rglob("*.html")):
                source = path.read_text(encoding="utf-8")
                found.update(inline_script_hashes_in(source, engine=engine, origin=str(path)))
    return tuple(sorted(found))


class PageCSPMiddleware(CSPMiddleware):
    """django-csp's middleware, on the admin dashboard and the broker portal only, with the policy of
    `settings.CONTENT_SECURITY_POLICY` plus the hashes of our own inline scripts in `script-src`.

    With DEBUG the hashes are recomputed for every page, so templates edited while the development
    server runs keep working.
    """

    def process_response(self, request, response):
        if not request.path.startswith(CSP_PATH_PREFIXES):
            return response
        return super().process_response(request, response)

    def get_policy_parts(self, request, response, report_only=False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only=report_only)
        if not report_only:
            if settings.DEBUG:
                project_inline_script_hashes.cache_clear()
            parts.update = {**(parts.update or {}), "script-src": list(project_inline_script_hashes())}
        return parts


class SecurityHeadersMiddleware:
    """Referrer-Policy and Permissions-Policy on every response (headers a view set are kept)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.referrer_policy = getattr(settings, "SECURE_REFERRER_POLICY", None) or "same-origin"

    def __call__(self, request):
        response = self.get_response(request)
        if "Referrer-Policy" not in response:
            response["Referrer-Policy"] = self.referrer_policy
        if "Permissions-Policy" not in response:
            response["Permissions-Policy"] = PERMISSIONS_POLICY
        return response
