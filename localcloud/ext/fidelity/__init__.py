"""Fidelity patches: what AWS does and moto does not (always applied)."""
