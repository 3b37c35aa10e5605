"""Stripe event types handled by apps above payments (payouts: `account.updated` of Connect).

The webhook endpoint and its event log belong to payments; payments must not import the apps above
it, and they must not import payments (payments calls up into payouts already: an app cycle). So an
upper app registers its handler here from its AppConfig.ready(), and payments' dispatcher looks here
for a type it does not handle itself. A handler takes the verified event (a dict), runs inside the
event's transaction, is idempotent, and returns (status, note) with status "PROCESSED" or "IGNORED".
"""

from collections.abc import Callable

Handler = Callable[[dict], tuple[str, str]]

_handlers: dict[str, Handler] = {}


def register(event_type: str, handler: Handler) -> None:
    _handlers[event_type] = handler


def handler_for(event_type: str) -> Handler | None:
    return _handlers.get(event_type)
