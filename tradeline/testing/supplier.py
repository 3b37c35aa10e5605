"""Supplier simulator fixtures (supplier_sim)."""
