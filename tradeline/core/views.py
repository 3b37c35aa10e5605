from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


def health(request):
    """Liveness/readiness: 200 when the database answers, 503 otherwise; the cache is reported."""
    state = {"database": "ok", "cache": "ok"}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any driver error means "down" here
        state["database"] = "down"
        status = 503
    try:
        cache.set("health:probe", "1", 5)
        if cache.get("health:probe") != "1":
            state["cache"] = "degraded"
    except Exception:
        state["cache"] = "down"
    state["status"] = "ok" if status == 200 else "unavailable"
    return JsonResponse(state, status=status)


@csrf_exempt  # like the API's own views: a POST to an unknown path is a 404, not a CSRF 403
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/ answer in the API's error format, not with an HTML page."""
    return JsonResponse({"error": "No such endpoint.", "code": "NOT_FOUND", "details": {"path": request.path}},
                        status=404)
