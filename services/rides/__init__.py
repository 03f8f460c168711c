"""Rides (MuniRide): on-demand rides matched to on-duty driver-members.

Owns: drivers, their vehicles (vehicles.py) and duty status, ride requests and their lifecycle
(requested, offered, accepted, picked up, completed; declined, cancelled), fares and their split
(priced by the policy version in force, rules.py), incidents on rides (incidents.py).
Publishes on `<city>.rides.events.v1`: rides.RideRequested, rides.RideCompleted,
rides.RideCancelled, rides.RideFeeCharged, rides.IncidentReported, rides.IncidentResolved.
Consumes decisions.PolicyChanged (policy versions, kernel.policies) and a driver's standing
(decisions.DriverSuspended, decisions.SuspensionLifted: inbound.py, standing.py).
"""
