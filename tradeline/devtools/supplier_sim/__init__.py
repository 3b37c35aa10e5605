"""A local TradelineSupply (WooCommerce REST v3) for tests and the demo shop.

`SupplierSimulator(...).start()` serves /wp-json/wc/v3 (pricing, orders, order search) on
127.0.0.1 with in-memory state, OAuth 1.0a / Basic auth and fault injection. See server.py.
"""

from tradeline.devtools.supplier_sim.server import SupplierSimulator
from tradeline.devtools.supplier_sim.state import Faults, SimState

__all__ = ["Faults", "SimState", "SupplierSimulator"]
