"""Contributions: open value accounting for the federation's co-ops.

Owns: the double-entry ledger (journal entries and the balances they make), each member's
account of credits and earnings. Consumes: rides.RideCompleted (credits the driver's hours,
posts the fare's split). Publishes nothing yet. Value equations, periods, distributions and
votes come next (see the README's roadmap).
"""
