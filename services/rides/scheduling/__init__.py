"""Scheduled, recurring and pooled rides: each service day planned as a dial-a-ride problem.

    model.py        the planner's values: a booking's stops and promised windows, the fleet,
                    a plan (ordered stops per vehicle, with times)
    timeline.py     times along a given stop order, and every rule checked on it (seats,
                    wheelchair places, windows, ride times, route length)
    planner.py      re-plans with `matching.routing.reoptimise`, checks every plan with
                    `matching.route_check`, inserts by hand when that fails, finds the nearest
                    windows that fit
    domain.py       the aggregates: ServiceDay (one day's plan and the bookings it keeps),
                    ScheduledRide (one booking: one occurrence), RecurringSeries
    application.py  the use cases, mixed into the rides application (`ScheduledRides`)
    projections.py  read models: the scheduled rides, every vehicle's stops per day

Every plan decision is a `ServiceDay.Replanned` event carrying its inputs summarised (the riders
considered, their windows, the objective, the solver's settings) and its result (the stops), so
an explanation or a replay never runs the solver again.
"""
