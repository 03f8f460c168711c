"""Contributions: open value accounting for the federation's co-ops.

Owns: the double-entry ledger: journal entries (one per fact, the write side) and the `Ledger`
read model over them (each member's lines, every account's balance, the trial balance).
Consumes: rides.RideCompleted (credits the driver's hours, posts the fare's split). Publishes
nothing yet. Value equations, periods, distributions and votes come next (see the README's
roadmap).
"""
