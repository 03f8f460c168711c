"""Rides (MuniRide): on-demand rides matched to on-duty driver-members.

Owns: drivers and their vehicles and duty status, ride requests and their lifecycle
(requested, offered, accepted, picked up, completed; declined, cancelled), fares and their split.
Publishes on `<city>.rides.events.v1`: rides.RideRequested, rides.RideCompleted,
rides.RideCancelled. Consumes decisions.PolicyChanged (policy versions, kernel.policies).
"""
