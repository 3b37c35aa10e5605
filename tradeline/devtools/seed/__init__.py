"""Demo data, one module per step (`seed(env) -> dict`); `devtools.demo.SEED_STEPS` runs them in order."""
