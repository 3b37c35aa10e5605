"""Request and response shapes of the broker and admin endpoints. Money: cents plus `_usd`."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict, StrictInt

from tradeline.brokers.models import AdminRole, BrokerStatus, KeyKind, MarkupType


class StrictSchema(Schema):
    """Unknown fields are refused (422), so nobody can sneak in fields they may not set."""

    model_config = ConfigDict(extra="forbid")


class BrokerSettingsIn(StrictSchema):
    """What a broker may change about itself. Share, status, id and email are not here."""

    name: str | None = Field(None, min_length=1, max_length=200)
    business_name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=500)
    website: str | None = Field(None, max_length=200)
    markup_type: MarkupType | None = None
    markup_percent: Decimal | None = Field(None, ge=0, le=100, max_digits=6, decimal_places=3)
    markup_fixed: StrictInt | None = Field(None, ge=0, description="cents per unit (FIXED markup)")
    allowed_origins: list[str] | None = Field(None, max_length=20,
                                              description="origins like https://shop.example.com")


class BrokerCreateIn(StrictSchema):
    name: str = Field(..., min_length=1, max_length=200)
    email: str = Field(..., min_length=3, max_length=254)
    business_name: str = Field("", max_length=200)
    website: str = Field("", max_length=200)
    phone: str = Field("", max_length=40)
    revenue_share_percent: Decimal | None = Field(None, max_digits=5, decimal_places=2)
    active: bool = Field(False, description="approve at once")


class BrokerAdminUpdateIn(BrokerSettingsIn):
    email: str | None = Field(None, min_length=3, max_length=254)
    notes: str | None = Field(None, max_length=10_000)
    revenue_share_percent: Decimal | None = Field(None, max_digits=5, decimal_places=2)
    status: Literal["ACTIVE", "SUSPENDED", "INACTIVE"] | None = None


class ReasonIn(StrictSchema):
    reason: str = Field("", max_length=500)


class RotateKeysIn(StrictSchema):
    kind: KeyKind | None = Field(None, description="PUBLISHABLE, SECRET, or omitted for both")


class ApiKeyOut(Schema):
    id: UUID
    kind: KeyKind
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedKeysOut(Schema):
    publishable_key: str | None = None
    secret_key: str | None = None


class BrokerOut(Schema):
    id: UUID
    name: str
    business_name: str
    email: str
    phone: str
    address: str = ""
    website: str
    status: BrokerStatus
    revenue_share_percent: Decimal
    markup_type: MarkupType
    markup_percent: Decimal
    markup_fixed: int
    markup_fixed_usd: str
    allowed_origins: list[str]
    created_at: datetime
    approved_at: datetime | None


class BrokerAdminOut(BrokerOut):
    notes: str
    approved_by: str | None
    has_portal_password: bool
    keys: list[ApiKeyOut]


class BrokerCreatedOut(Schema):
    broker: BrokerAdminOut
    keys: IssuedKeysOut


class BrokerKeysOut(Schema):
    broker_id: UUID
    keys: IssuedKeysOut


class BrokerListQuery(Schema):
    status: BrokerStatus | None = None
    search: str | None = Field(None, max_length=200)
    page: int = Field(1, ge=1, le=1_000_000)
    limit: int = Field(20, ge=1, le=100)


class PaginationOut(Schema):
    page: int
    limit: int
    total: int
    pages: int


class BrokerListOut(Schema):
    brokers: list[BrokerOut]
    pagination: PaginationOut


class LoginIn(Schema):
    email: str = Field(..., min_length=1, max_length=254)
    password: str = Field(..., min_length=1, max_length=256)
    otp_code: str | None = Field(None, max_length=32, description="TOTP or recovery code (admins with 2FA)")


class SecondFactorIn(Schema):
    challenge: str = Field(..., min_length=1, max_length=512)
    code: str = Field(..., min_length=1, max_length=32)


class LoginOut(Schema):
    token: str
    expires_at: datetime
    role: AdminRole


class AdminMeOut(Schema):
    email: str
    role: AdminRole


class PasswordIn(StrictSchema):
    password: str = Field(..., min_length=1, max_length=256)


class BrokerPublicOut(Schema):
    id: UUID
    name: str
    business_name: str
    website: str


class ErrorOut(Schema):
    """Every error: a human message, an UPPER_SNAKE code, and optional details (field errors for 422)."""

    error: str
    code: str
    details: Any = None
