"""The OR-Tools matching core: pure solvers with typed inputs and outputs.

Nothing here knows about aggregates, events, stores or the bus. Every solver takes a time limit
and a seed, is deterministic for a seed with one worker, and returns a typed result carrying its
status (see `matching.status`). Callers record a solver's decision as an event, so a replay
never runs OR-Tools again.

Modules:
    status       SolveStatus, shared by every solver result
    travel       travel-time providers (haversine with detour, OSRM table service over HTTP)
    assignment   batch assignment of waiting ride requests to available drivers (+ greedy baseline)
    routing      dial-a-ride / pickup-and-delivery routing with time windows (OR-Tools routing)
    route_check  independent feasibility checker for routes (shares no code with routing)
    rostering    CP-SAT shift rostering
    roster_check independent checker for rosters (shares no code with rostering)
    instances/   readers for public benchmark formats (Cordeau DARP, Li & Lim PDPTW, Curtois & Qu)
"""
