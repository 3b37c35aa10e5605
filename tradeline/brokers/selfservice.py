"""Broker self-service in the portal: forgotten password, password change, login email change.

- Forgotten password: a one-time link made by Django's token generator (keyed on the broker's id,
  password hash and email, so it dies when the password changes), valid PASSWORD_RESET_TIMEOUT
  seconds. The request answers the same whether or not the email exists: the email itself is
  sent by a task, so the request does the same work either way. Rate-limited per IP and email.
- Email change: the new address confirms first (a signed, expiring link sent to it); the old
  address is told once it changed. The link carries the current email, so it works once.
Every change lands in the activity log.
"""

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from tradeline.audit.models import ActorType
from tradeline.audit.services import activity_log
from tradeline.brokers import emails
from tradeline.brokers.models import Broker, BrokerStatus
from tradeline.brokers.services.accounts import broker_authenticate, password_check_strength
from tradeline.brokers.validators import clean_email
from tradeline.brokers.tasks import send_password_reset_email
from tradeline.brokers.tokens import password_reset_tokens
from tradeline.core import ratelimit
from tradeline.core.errors import Conflict, NotAuthenticated, ValidationFailed

RESET_SCOPE = "portal-password-reset"
EMAIL_CHANGE_SALT = "tradeline.brokers.email-change"


def broker_password_reset_request(*, email: str, ip: str | None) -> None:
    """Send a reset link if the email belongs to a broker who may use the portal. Same answer (and
    the same work) either way; 429 once RATE_LIMIT_PASSWORD_RESET is used up for the IP or email."""
    identity = email.strip().lower()[:254] if isinstance(email, str) else ""
    ratelimit.hit(None, scope=RESET_SCOPE, rule=settings.RATE_LIMIT_PASSWORD_RESET, identity=identity or None,
                  ip=ip, raise_over=True)
    broker = (Broker.objects.filter(email__iexact=identity).exclude(status=BrokerStatus.INACTIVE)
              .only("pk").first() if identity else None)
    with transaction.atomic():
        send_password_reset_email.enqueue(broker_id=str(broker.pk) if broker else "")
        if broker is not None:
            activity_log(action="broker.password_reset_requested", entity=broker, broker=broker,
                         actor_type=ActorType.BROKER, metadata={"ip": ip or ""})


def broker_for_reset_link(*, uidb64: str, token: str) -> Broker:
    """The broker a valid, unexpired, unused link belongs to; otherwise 400 INVALID_RESET_LINK."""
    try:
        broker_id = force_str(urlsafe_base64_decode(uidb64))
        broker = Broker.objects.exclude(status=BrokerStatus.INACTIVE).filter(pk=broker_id).first()
    except (ValueError, TypeError, OverflowError, ValidationError):
        broker = None
    if broker is None or not password_reset_tokens.check_token(broker, token):
        raise ValidationFailed("This link is invalid or has expired. Ask for a new one.", code="INVALID_RESET_LINK",
                               status=400)
    return broker


@transaction.atomic
def broker_password_reset_confirm(*, uidb64: str, token: str, password: str) -> Broker:
    broker = broker_for_reset_link(uidb64=uidb64, token=token)
    password_check_strength(password)
    broker = Broker.objects.select_for_update().get(pk=broker.pk)
    if not password_reset_tokens.check_token(broker, token):  # used by a concurrent request
        raise ValidationFailed("This link has already been used.", code="INVALID_RESET_LINK", status=400)
    broker.password = make_password(password)
    broker.save(update_fields=["password", "updated_at"])
    activity_log(action="broker.password_reset", entity=broker, broker=broker, actor_type=ActorType.BROKER)
    transaction.on_commit(lambda: emails.send_password_changed(broker=broker))
    return broker


@transaction.atomic
def broker_password_change(*, broker: Broker, current_password: str, new_password: str) -> Broker:
    if broker_authenticate(email=broker.email, password=current_password) is None:
        raise NotAuthenticated("The current password is wrong.", code="INVALID_CREDENTIALS")
    password_check_strength(new_password)
    broker = Broker.objects.select_for_update().get(pk=broker.pk)
    broker.password = make_password(new_password)
    broker.save(update_fields=["password", "updated_at"])
    activity_log(action="broker.password_changed", entity=broker, broker=broker, actor_type=ActorType.BROKER)
    transaction.on_commit(lambda: emails.send_password_changed(broker=broker))
    return broker


# ---------------------------------------------------------------- login email

def broker_email_change_request(*, broker: Broker, new_email: str, password: str) -> None:
    """Send a confirmation link to the new address. An address taken by another broker gets no
    link (and the answer is the same, so nobody learns which addresses are registered)."""
    if broker_authenticate(email=broker.email, password=password) is None:
        raise NotAuthenticated("The password is wrong.", code="INVALID_CREDENTIALS")
    new_email = clean_email(new_email)
    if new_email.lower() == broker.email.lower():
        raise ValidationFailed("That is already your login email.", code="EMAIL_UNCHANGED",
                               details=[{"field": "email", "message": "unchanged", "type": "unchanged"}])
    taken = Broker.objects.filter(email__iexact=new_email).exclude(pk=broker.pk).exists()
    activity_log(action="broker.email_change_requested", entity=broker, broker=broker, actor_type=ActorType.BROKER,
                 metadata={"new_email": new_email, "taken": taken})
    if not taken:
        token = signing.dumps({"b": str(broker.pk), "from": broker.email.lower(), "to": new_email},
                              salt=EMAIL_CHANGE_SALT, compress=True)
        link = f"{settings.PUBLIC_BASE_URL}/portal/email/confirm/{token}/"
        transaction.on_commit(lambda: emails.send_email_change_confirm(broker=broker, new_email=new_email, link=link))


@transaction.atomic
def broker_email_change_confirm(*, token: str) -> Broker:
    invalid = ValidationFailed("This link is invalid or has expired.", code="INVALID_EMAIL_LINK", status=400)
    try:
        data = signing.loads(token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT_SECONDS)
    except signing.BadSignature:
        raise invalid from None
    broker = Broker.objects.select_for_update().filter(pk=data.get("b")).first()
    if broker is None or broker.email.lower() != data.get("from"):
        raise invalid  # already used (the email changed since) or the broker is gone
    old_email, broker.email = broker.email, data["to"]
    try:
        with transaction.atomic():
            broker.save(update_fields=["email", "updated_at"])
    except IntegrityError:
        raise Conflict("Another account uses this email now.", code="BROKER_EMAIL_TAKEN") from None
    activity_log(action="broker.email_changed", entity=broker, broker=broker, actor_type=ActorType.BROKER,
                 metadata={"from": old_email, "to": broker.email})
    transaction.on_commit(lambda: emails.send_email_changed(broker=broker, old_email=old_email))
    return broker
