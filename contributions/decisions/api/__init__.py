"""GraphQL for decisions: propose, back, vote (and by proxy), close; proxies; suspensions and
appeals; the list of decisions, a decision's tally and the policy history.

Roles are checked by the Guard from `kernel.permissions.MATRIX`; what depends on the row stays
here (only the desk records a proxy for another member, with their consent). Refusals are typed
problems that change nothing; every act done for someone else is in the audit log (who acted
for whom, by member id).
"""

from contributions.decisions.api.mutations import DecisionsMutation
from contributions.decisions.api.queries import DecisionsQuery

__all__ = ["DecisionsMutation", "DecisionsQuery"]
