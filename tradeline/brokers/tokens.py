"""One-time links for brokers: Django's password-reset token generator, adapted to brokers."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tradeline.brokers.models import Broker


class BrokerTokenGenerator(PasswordResetTokenGenerator):
    """Django's token generator for brokers (they are not Django users): the hash covers the
    password and email, so a used or outdated link stops working; PASSWORD_RESET_TIMEOUT applies."""

    key_salt = "tradeline.brokers.password-reset"

    def _make_hash_value(self, broker, timestamp):
        return f"{broker.pk}{broker.password}{timestamp}{broker.email.lower()}"


password_reset_tokens = BrokerTokenGenerator()


def password_reset_link(broker: Broker) -> str:
    uid = urlsafe_base64_encode(force_bytes(str(broker.pk)))
    return f"{settings.PUBLIC_BASE_URL}/portal/reset/{uid}/{password_reset_tokens.make_token(broker)}/"
