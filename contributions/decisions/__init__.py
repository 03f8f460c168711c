"""Decisions: how the co-op changes its policies and decides about drivers, on the record.

Owns proposals (a board member's go to a vote at once; a member's once enough members back
them), votes (one member, one vote, quorum and threshold from the policies in force, proxies
given with the member's consent), the city's policy versions (the config file is version 1;
each passed decision publishes the next, with the date it takes effect from) and drivers'
suspensions with their appeals (a board member's recorded decision, never an algorithm).

Publishes on `<city>.decisions.events.v1`: `decisions.PolicyChanged`, `decisions.DecisionClosed`,
`decisions.DriverSuspended`, `decisions.SuspensionLifted`. Consumes `members.MemberJoined` (the
electorate). It is its own service (its own store and read models) inside the contributions
package; it imports nothing of the contributions ledger.
"""
