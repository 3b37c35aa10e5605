"""A local Stripe-compatible server for development and tests (`tradeline stripe_sim`).

The official `stripe` SDK talks to it through STRIPE_API_BASE. It keeps everything in memory (or, with
state_path, in SQLite across restarts), serves
a hosted checkout page, and sends signed webhook events the way Stripe does. See server.py.
"""

from tradeline.devtools.stripe_sim.server import StripeSim

__all__ = ["StripeSim"]
