"""Members: the city co-op's register of members (who joined, when, in which city).

Owns: membership. Publishes on `<city>.members.events.v1`: members.MemberJoined. Consumes
nothing yet. Personal data is kept to a display name the member chooses; contact details and
erasure come with the privacy work (see README, "Not yet").
"""
