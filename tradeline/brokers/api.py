"""Broker self-service (/api/brokers), broker administration (/api/admin/brokers) and admin login
(/api/admin/auth). Thin: schema in, one service or selector call, schema out."""

from uuid import UUID

from django.http import HttpRequest
from ninja import Query, Router, Status

from tradeline.audit.models import ActorType
from tradeline.brokers import selectors, services
from tradeline.brokers.auth import AdminTokenAuth, BrokerKeyAuth
from tradeline.brokers.schemas import (
    AdminMeOut,
    ApiKeyOut,
    BrokerAdminOut,
    BrokerAdminUpdateIn,
    BrokerCreatedOut,
    BrokerCreateIn,
    BrokerKeysOut,
    BrokerListOut,
    BrokerListQuery,
    BrokerOut,
    BrokerPublicOut,
    BrokerSettingsIn,
    ErrorOut,
    IssuedKeysOut,
    LoginIn,
    LoginOut,
    PasswordIn,
    ReasonIn,
    RotateKeysIn,
    SecondFactorIn,
)
from tradeline.core.errors import NotFound
from tradeline.core.ratelimit import client_ip

router = Router()
admin_router = Router()
auth_router = Router()

ERRORS = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422, 429)}


def _admin_detail(broker_id) -> dict:
    """The broker as the admin API shows it, read again (with its approver) after a change."""
    return selectors.broker_admin_detail(selectors.broker_get(broker_id=broker_id))


# ------------------------------------------------------------------ /api/brokers (the broker itself)

@router.get("/me", response={200: BrokerOut, **ERRORS}, auth=[BrokerKeyAuth()],
            summary="The calling broker's profile and settings (secret key)")
def broker_me(request: HttpRequest):
    return selectors.broker_public(request.broker)


@router.patch("/me", response={200: BrokerOut, **ERRORS}, auth=[BrokerKeyAuth()],
              summary="Change profile, markup and allowed origins (never share, status or email)")
def broker_me_update(request: HttpRequest, payload: BrokerSettingsIn):
    broker = services.broker_update_settings(broker=request.broker, **payload.dict(exclude_unset=True))
    return selectors.broker_public(broker)


@router.get("/me/public", response={200: BrokerPublicOut, **ERRORS}, auth=[BrokerKeyAuth(publishable_ok=True)],
            summary="The broker's public face for the widget (publishable or secret key)")
def broker_me_public(request: HttpRequest):
    broker = request.broker
    return {"id": broker.pk, "name": broker.name, "business_name": broker.business_name, "website": broker.website}


@router.get("/me/keys", response={200: list[ApiKeyOut], **ERRORS}, auth=[BrokerKeyAuth()],
            summary="The broker's API keys (prefixes only)")
def broker_me_keys(request: HttpRequest):
    return selectors.broker_keys(broker=request.broker)


@router.get("/me/keys/{uuid:key_id}", response={200: ApiKeyOut, **ERRORS}, auth=[BrokerKeyAuth()],
            summary="One of the broker's API keys")
def broker_me_key(request: HttpRequest, key_id: UUID):
    return selectors.broker_key_get(broker=request.broker, key_id=key_id)


@router.post("/me/keys/{uuid:key_id}/revoke", response={200: ApiKeyOut, **ERRORS}, auth=[BrokerKeyAuth()],
             summary="Revoke one of the broker's keys; it fails at once")
def broker_me_key_revoke(request: HttpRequest, key_id: UUID):
    return services.broker_key_revoke(broker_id=request.broker.pk, key_id=key_id, actor_type=ActorType.BROKER)


@router.post("/me/rotate-keys", response={200: IssuedKeysOut, **ERRORS}, auth=[BrokerKeyAuth()],
             summary="Replace the broker's keys; the new ones are shown only in this response")
def broker_me_rotate(request: HttpRequest, payload: RotateKeysIn | None = None):
    kind = payload.kind if payload else None
    return services.broker_keys_rotate(broker_id=request.broker.pk, kind=kind, actor_type=ActorType.BROKER)


@router.get("/{uuid:broker_id}", response={200: BrokerOut, **ERRORS}, auth=[AdminTokenAuth(), BrokerKeyAuth()],
            summary="A broker (admins: any; a broker: only itself)")
def broker_detail(request: HttpRequest, broker_id: UUID):
    own = getattr(request, "broker", None)
    if own is not None and own.pk != broker_id:
        raise NotFound("No such broker.", code="BROKER_NOT_FOUND")
    return selectors.broker_public(selectors.broker_get(broker_id=broker_id))


# ------------------------------------------------------------------ /api/admin/brokers

@admin_router.get("", response={200: BrokerListOut, **ERRORS}, auth=[AdminTokenAuth()],
                  summary="List brokers (filter by status, search name/business/email)")
def admin_broker_list(request: HttpRequest, filters: Query[BrokerListQuery]):
    return selectors.broker_list(status=filters.status, search=filters.search, page=filters.page,
                                 limit=filters.limit)


@admin_router.post("", response={201: BrokerCreatedOut, **ERRORS}, auth=[AdminTokenAuth(write=True)],
                   summary="Create a broker; its keys are shown only in this response")
def admin_broker_create(request: HttpRequest, payload: BrokerCreateIn):
    broker, issued = services.broker_onboard(**payload.dict(), actor_user=request.admin_user)
    return Status(201, {"broker": selectors.broker_admin_detail(broker), "keys": issued})


@admin_router.get("/{uuid:broker_id}", response={200: BrokerAdminOut, **ERRORS}, auth=[AdminTokenAuth()],
                  summary="One broker with its keys (prefixes only)")
def admin_broker_detail(request: HttpRequest, broker_id: UUID):
    return _admin_detail(broker_id)


@admin_router.patch("/{uuid:broker_id}", response={200: BrokerAdminOut, **ERRORS}, auth=[AdminTokenAuth(write=True)],
                    summary="Change share, status (through approve/suspend/deactivate rules) or profile")
def admin_broker_update(request: HttpRequest, broker_id: UUID, payload: BrokerAdminUpdateIn):
    broker = services.broker_admin_update(broker_id=broker_id, actor_user=request.admin_user,
                                          **payload.dict(exclude_unset=True))
    return _admin_detail(broker.pk)


@admin_router.post("/{uuid:broker_id}/approve", response={200: BrokerAdminOut, **ERRORS},
                   auth=[AdminTokenAuth(write=True)], summary="PENDING, SUSPENDED or INACTIVE -> ACTIVE")
def admin_broker_approve(request: HttpRequest, broker_id: UUID):
    broker = services.broker_approve(broker_id=broker_id, actor_user=request.admin_user)
    return _admin_detail(broker.pk)


@admin_router.post("/{uuid:broker_id}/suspend", response={200: BrokerAdminOut, **ERRORS},
                   auth=[AdminTokenAuth(write=True)], summary="ACTIVE -> SUSPENDED")
def admin_broker_suspend(request: HttpRequest, broker_id: UUID, payload: ReasonIn | None = None):
    broker = services.broker_suspend(broker_id=broker_id, actor_user=request.admin_user,
                                     reason=payload.reason if payload else "")
    return _admin_detail(broker.pk)


@admin_router.post("/{uuid:broker_id}/deactivate", response={200: BrokerAdminOut, **ERRORS},
                   auth=[AdminTokenAuth(write=True)], summary="PENDING, ACTIVE or SUSPENDED -> INACTIVE")
def admin_broker_deactivate(request: HttpRequest, broker_id: UUID, payload: ReasonIn | None = None):
    broker = services.broker_deactivate(broker_id=broker_id, actor_user=request.admin_user,
                                        reason=payload.reason if payload else "")
    return _admin_detail(broker.pk)


@admin_router.post("/{uuid:broker_id}/rotate-keys", response={200: BrokerKeysOut, **ERRORS},
                   auth=[AdminTokenAuth(write=True)],
                   summary="Replace the broker's keys (one kind or both); shown only in this response")
def admin_broker_rotate(request: HttpRequest, broker_id: UUID, payload: RotateKeysIn | None = None):
    issued = services.broker_keys_rotate(broker_id=broker_id, kind=payload.kind if payload else None,
                                         actor_user=request.admin_user)
    return {"broker_id": broker_id, "keys": issued}


@admin_router.get("/{uuid:broker_id}/keys", response={200: list[ApiKeyOut], **ERRORS}, auth=[AdminTokenAuth()],
                  summary="The broker's keys (prefixes only)")
def admin_broker_keys(request: HttpRequest, broker_id: UUID):
    return selectors.broker_keys(broker=selectors.broker_get(broker_id=broker_id))


@admin_router.post("/{uuid:broker_id}/keys/{uuid:key_id}/revoke", response={200: ApiKeyOut, **ERRORS},
                   auth=[AdminTokenAuth(write=True)], summary="Revoke one key; it fails at once")
def admin_broker_key_revoke(request: HttpRequest, broker_id: UUID, key_id: UUID):
    return services.broker_key_revoke(broker_id=broker_id, key_id=key_id, actor_user=request.admin_user)


@admin_router.post("/{uuid:broker_id}/password", response={204: None, **ERRORS}, auth=[AdminTokenAuth(write=True)],
                   summary="Set the broker's portal password")
def admin_broker_password(request: HttpRequest, broker_id: UUID, payload: PasswordIn):
    services.broker_set_password(broker_id=broker_id, password=payload.password, actor_user=request.admin_user)
    return Status(204, None)


# ------------------------------------------------------------------ /api/admin/auth

@auth_router.post("/login", response={200: LoginOut, **ERRORS}, auth=None,
                  summary="Exchange email and password (and, with 2FA, a code) for a bearer token (failed attempts are throttled)")
def admin_login(request: HttpRequest, payload: LoginIn):
    login = services.admin_login(email=payload.email, password=payload.password, ip=client_ip(request),
                                 otp_code=payload.otp_code)
    return {"token": login.token, "expires_at": login.expires_at, "role": login.role}


@auth_router.post("/login/2fa", response={200: LoginOut, **ERRORS}, auth=None,
                  summary="Second step of the login: the challenge and a TOTP or recovery code")
def admin_login_2fa(request: HttpRequest, payload: SecondFactorIn):
    login = services.admin_login_second_step(challenge=payload.challenge, code=payload.code, ip=client_ip(request))
    return {"token": login.token, "expires_at": login.expires_at, "role": login.role}


@auth_router.post("/logout", response={204: None, **ERRORS}, auth=[AdminTokenAuth()],
                  summary="Revoke the bearer token of this request")
def admin_logout(request: HttpRequest):
    services.admin_logout(raw_token=request.headers.get("Authorization", "")[7:].strip())
    return Status(204, None)


@auth_router.get("/me", response={200: AdminMeOut, **ERRORS}, auth=[AdminTokenAuth()],
                 summary="Who the bearer token belongs to")
def admin_me(request: HttpRequest):
    user = request.admin_user
    return {"email": user.email or user.get_username(), "role": request.admin_role}



