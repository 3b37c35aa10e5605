"""Payout endpoints (/api/payouts) and the broker's earnings (/api/brokers/me/earnings).

Admins (bearer token; writes need a writing role) create, process and cancel payouts; a broker
(secret key) sees its own payouts and reports — another broker's payout is a 404.
"""

import json

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status
from pydantic import ValidationError as PydanticValidationError

from tradeline.brokers.auth import AdminTokenAuth, BrokerKeyAuth
from tradeline.core.errors import ValidationFailed
from tradeline.payouts import selectors, services, statements
from tradeline.payouts.schemas import (
    BrokerPayoutsOut,
    BrokerPayoutsQuery,
    EarningsOut,
    ErrorOut,
    PayoutCreateIn,
    PayoutEndIn,
    PayoutOut,
    PayoutProcessIn,
    PayoutRunOut,
    PayoutSendOut,
    ReportQuery,
    TransferReversalIn,
    TransferReversalOut,
)

router = Router()
brokers_router = Router()

ADMIN_READ = [AdminTokenAuth()]
ADMIN_WRITE = [AdminTokenAuth(write=True)]
BROKER_SECRET = [BrokerKeyAuth(publishable_ok=False, require_active_broker=False)]


def _end_payload(request: HttpRequest) -> PayoutEndIn:
    """The optional {"reason"} body of cancel/fail: an empty body means no reason."""
    if request.content_type != "application/json":
        data = {"reason": request.POST.get("reason", "")}  # form post, or no body at all
    elif not request.body.strip():
        return PayoutEndIn()
    else:
        try:
            data = json.loads(request.body)
        except ValueError:
            raise ValidationFailed("The body must be a JSON object.", code="INVALID_JSON") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", code="INVALID_JSON")
    try:
        return PayoutEndIn(**data)
    except PydanticValidationError as exc:
        raise ValidationFailed("The request is invalid.", details=[
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"], "type": err["type"]}
            for err in exc.errors()
        ]) from None


def _broker_scope(request: HttpRequest):
    """None for an admin (every payout), else the calling broker (its own payouts only)."""
    return None if getattr(request, "admin_user", None) is not None else request.broker


@router.post("", response={201: PayoutRunOut, 404: ErrorOut}, auth=ADMIN_WRITE,
             summary="Create the payouts of an ended UTC month (all brokers, or one)")
def payouts_create(request: HttpRequest, payload: PayoutCreateIn):
    results = services.payout_run_month(year=payload.year, month=payload.month, broker_id=payload.broker_id,
                                        actor_user=request.admin_user)
    created = [r.payout for r in results if r.outcome == "created"]
    return Status(201, {
        "period": f"{payload.year:04d}-{payload.month:02d}",
        "payouts": [selectors.payout_summary(p) for p in created],
        "count": len(created),
        "brokers": [r.as_dict() for r in results],
    })


@router.get("/pending", response=list[PayoutOut], auth=ADMIN_READ, summary="Payouts waiting to be paid")
def payouts_pending(request: HttpRequest):
    return selectors.payout_list_pending()


@router.get("/broker", response=BrokerPayoutsOut, auth=BROKER_SECRET,
            summary="The calling broker's payout history, with pagination and a summary")
def payouts_for_broker(request: HttpRequest, query: Query[BrokerPayoutsQuery]):
    return selectors.payout_list_for_broker(broker=request.broker, page=query.page, limit=query.limit,
                                            status=query.status)


@router.get("/{uuid:payout_id}", response=PayoutOut, auth=[AdminTokenAuth(), *BROKER_SECRET],
            summary="One payout (admin, or the owning broker)")
def payout_detail(request: HttpRequest, payout_id):
    return selectors.payout_summary(selectors.payout_get(payout_id=payout_id, broker=_broker_scope(request)))


@router.post("/{uuid:payout_id}/process", response=PayoutOut, auth=ADMIN_WRITE,
             summary="Record that the payout was paid (transaction id required)")
def payout_process(request: HttpRequest, payout_id, payload: PayoutProcessIn):
    payout = services.payout_mark_paid(payout_id=payout_id, transaction_id=payload.transaction_id,
                                       notes=payload.notes, actor_user=request.admin_user)
    return selectors.payout_summary(payout)


@router.post("/{uuid:payout_id}/send", response={200: PayoutSendOut, 404: ErrorOut, 502: ErrorOut}, auth=ADMIN_WRITE,
             summary="Send a PENDING payout as one Stripe Connect transfer (safe to repeat)")
def payout_send(request: HttpRequest, payout_id):
    result = services.payout_send(payout_id=payout_id, actor_user=request.admin_user)
    return {"outcome": result.outcome, "message": result.message, "payout": selectors.payout_summary(result.payout)}


@router.post("/reversals", response={201: TransferReversalOut, 404: ErrorOut, 502: ErrorOut}, auth=ADMIN_WRITE,
             summary="Take part of a deactivated broker's last transfer back (it owes clawbacks)")
def transfer_reverse(request: HttpRequest, payload: TransferReversalIn):
    reversal = services.transfer_reverse(broker_id=payload.broker_id, amount=payload.amount,
                                         actor_user=request.admin_user)
    return Status(201, {"id": str(reversal.pk), "broker_id": str(reversal.broker_id),
                        "transfer_id": reversal.transfer.stripe_transfer_id, "amount": reversal.amount,
                        "status": reversal.status, "stripe_reversal_id": reversal.stripe_reversal_id,
                        "adjustment_id": str(reversal.adjustment_id) if reversal.adjustment_id else None})


@router.post("/{uuid:payout_id}/cancel", response=PayoutOut, auth=ADMIN_WRITE,
             summary="Cancel a pending payout; its commissions carry over (optional body {\"reason\"})")
def payout_cancel(request: HttpRequest, payout_id):
    payload = _end_payload(request)
    payout = services.payout_cancel(payout_id=payout_id, reason=payload.reason,
                                    actor_user=request.admin_user)
    return selectors.payout_summary(payout)


@router.post("/{uuid:payout_id}/fail", response=PayoutOut, auth=ADMIN_WRITE,
             summary="Record that the transfer failed; its commissions carry over (optional body {\"reason\"})")
def payout_fail(request: HttpRequest, payout_id):
    payload = _end_payload(request)
    payout = services.payout_fail(payout_id=payout_id, reason=payload.reason,
                                  actor_user=request.admin_user)
    return selectors.payout_summary(payout)


@router.get("/{uuid:payout_id}/report", auth=[AdminTokenAuth(), *BROKER_SECRET],
            summary="Payout report: JSON (default) or CSV (?format=csv)",
            openapi_extra={"responses": {200: {"description": "The report: JSON, or CSV with ?format=csv", "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": True}},
                "text/csv": {"schema": {"type": "string"}},
            }}}})
def payout_report(request: HttpRequest, payout_id, query: Query[ReportQuery]):
    payout = selectors.payout_get(payout_id=payout_id, broker=_broker_scope(request))
    if query.format == "csv":
        response = HttpResponse(selectors.payout_report_csv(payout=payout), content_type="text/csv; charset=utf-8")
        filename = f"payout-{payout.period_start:%Y-%m}-{payout.pk}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    return selectors.payout_report(payout=payout)


@brokers_router.get("/me/earnings", response=EarningsOut, auth=BROKER_SECRET,
                    summary="The calling broker's earnings: pending, held, in payout, paid, clawed back")
def my_earnings(request: HttpRequest):
    return selectors.broker_earnings(broker=request.broker)


@brokers_router.get("/me/statements/{year}", auth=BROKER_SECRET,
                    summary="The calling broker's statement for a calendar year (UTC): JSON, or CSV with ?format=csv",
                    openapi_extra={"responses": {200: {"description": "The statement", "content": {
                        "application/json": {"schema": {"type": "object", "additionalProperties": True}},
                        "text/csv": {"schema": {"type": "string"}},
                    }}}})
def my_statement(request: HttpRequest, year: int, query: Query[ReportQuery]):
    statement = statements.broker_statement(broker=request.broker, year=year)
    if query.format == "csv":
        response = HttpResponse(statements.broker_statement_csv(statement), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="statement-{year}.csv"'
        return response
    return statement
