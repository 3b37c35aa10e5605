"""Local Stripe server fixtures (stripe_sim)."""
