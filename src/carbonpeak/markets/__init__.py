"""Markets (plan action 36): ETS allocation, compliance, offsets, carbon inclusion, energy-use rights, ledger rules (pure)."""
