from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import Q

from tradeline.brokers import validators as v
from tradeline.core.errors import ValidationFailed
from tradeline.core.models import TimeStampedModel


class BrokerStatus(models.TextChoices):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    INACTIVE = "INACTIVE"


class MarkupType(models.TextChoices):
    PERCENTAGE = "PERCENTAGE"
    FIXED = "FIXED"


# The shape of each field a person types in (see validators.py); Broker.clean_values() applies them.
BROKER_FIELD_SHAPES = {
    "name": lambda value: v.clean_text("name", value, max_length=200, required=True),
    "business_name": lambda value: v.clean_text("business_name", value, max_length=200),
    "phone": lambda value: v.clean_text("phone", value, max_length=40),
    "address": lambda value: v.clean_text("address", value, max_length=500),
    "notes": lambda value: v.clean_text("notes", value, max_length=10_000),
    "email": v.clean_email,
    "website": v.clean_website,
    "allowed_origins": v.clean_origins,
    "markup_type": lambda value: v.clean_choice("markup_type", value, MarkupType.values),
    "markup_percent": v.clean_markup_percent,
    "markup_fixed": v.clean_markup_fixed,
}


class Broker(TimeStampedModel):
    name = models.CharField(max_length=200)
    business_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(unique=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(max_length=500, blank=True)
    website = models.URLField(blank=True)
    status = models.CharField(max_length=16, choices=BrokerStatus.choices, default=BrokerStatus.PENDING, db_index=True)
    # Set by admins only, within BROKER_SHARE_MIN..MAX (validated in services).
    revenue_share_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("10"))
    # Set by the broker: PERCENTAGE uses markup_percent (of the base price), FIXED uses markup_fixed (cents).
    markup_type = models.CharField(max_length=16, choices=MarkupType.choices, default=MarkupType.PERCENTAGE)
    markup_percent = models.DecimalField(max_digits=6, decimal_places=3, default=Decimal("0"))
    markup_fixed = models.BigIntegerField(default=0)
    # Origins allowed to call the API from a browser with the publishable key (CORS).
    allowed_origins = models.JSONField(default=list, blank=True)
    # Broker portal login (Django password hash); empty = no portal access.
    password = models.CharField(max_length=128, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revenue_share_percent__gte=0) & Q(revenue_share_percent__lte=100),
                name="broker_share_0_100",
            ),
            models.CheckConstraint(
                condition=Q(markup_percent__gte=0) & Q(markup_percent__lte=100), name="broker_markup_percent_0_100"
            ),
            models.CheckConstraint(condition=Q(markup_fixed__gte=0), name="broker_markup_fixed_nonneg"),
        ]

    def __str__(self) -> str:
        return self.business_name or self.name

    @property
    def is_active(self) -> bool:
        return self.status == BrokerStatus.ACTIVE

    @staticmethod
    def clean_values(fields: dict) -> dict:
        """The given fields' values, cleaned (stripped, lower-cased email, normalised origins, Decimal
        markup); ValidationFailed (422, naming the field) on the first bad one. Every key must be in
        BROKER_FIELD_SHAPES: which fields a caller may change is the services' business."""
        return {name: BROKER_FIELD_SHAPES[name](value) for name, value in fields.items()}

    def clean(self) -> None:
        """Django's model validation (forms, full_clean) checks the same shapes as the services."""
        super().clean()
        try:
            cleaned = self.clean_values({name: getattr(self, name) for name in BROKER_FIELD_SHAPES})
        except ValidationFailed as exc:
            field = (exc.details or [{}])[0].get("field") or "__all__"
            raise DjangoValidationError({field: exc.message}) from None
        for name, value in cleaned.items():
            setattr(self, name, value)


class KeyKind(models.TextChoices):
    PUBLISHABLE = "PUBLISHABLE"
    SECRET = "SECRET"


class BrokerApiKey(TimeStampedModel):
    """An API key, stored as a SHA-256 hash. `prefix` (shown in listings) finds the row."""

    broker = models.ForeignKey(Broker, on_delete=models.CASCADE, related_name="api_keys")
    kind = models.CharField(max_length=16, choices=KeyKind.choices)
    prefix = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["broker", "kind"], condition=Q(revoked_at__isnull=True), name="one_live_key_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.kind})"


class AdminRole(models.TextChoices):
    SUPER_ADMIN = "SUPER_ADMIN"
    ADMIN = "ADMIN"
    STAFF = "STAFF"
    SUPPORT = "SUPPORT"


class AdminProfile(models.Model):
    """An admin is a Django user with a role. SUPPORT is read-only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="admin_profile")
    role = models.CharField(max_length=16, choices=AdminRole.choices, default=AdminRole.STAFF)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class AdminToken(TimeStampedModel):
    """Bearer token for the admin API, stored hashed, with an expiry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="admin_tokens")
    prefix = models.CharField(max_length=32, unique=True)
    key_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
