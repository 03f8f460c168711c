"""Contributions: open value accounting for the federation's co-ops.

Owns: the double-entry ledger (journal entries, one per fact, and the `Ledger` read model);
crediting from every service's contribution rules (contributions.crediting, in the ValueFlows
vocabulary of kernel.valueflows); work members log for peers to validate (logged); value
equations as versioned data, adopted only by a recorded decision (equations, policy); periods
that close with shares frozen (periods), exact distributions of surplus with the development
levy (distribution), the protocol co-op's share (shares), contests (contests); the read models
they are computed on (accounting) and the board's reports over GraphQL and CSV (value_api,
reports_csv); what members write (written: notes, contest reasons, in the member's vault) and
their export and erasure (privacy). Days and periods are the city's local calendar. Consumes:
rides.RideCompleted (the fare's split, and the driver's hours by the rides spec's rule),
whatever else a service's rules name, and decisions.PolicyChanged (the policy versions, and a
ratified value equation, adopted). Publishes nothing yet.
"""
