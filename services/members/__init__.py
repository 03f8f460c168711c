"""Members: the city co-op's register of members (who joined, when, in which city).

Owns: membership, and the personal data of members (display name; contact details from the
accounts work) in its vault, outside its events; the audit log. Publishes on
`<city>.members.events.v1`: members.MemberJoined (member id, city, date: no personal data).
Consumes nothing yet. Personal data is erased on request (`Members.erase_personal_data`) and
exported with everything else held about the member (`Members.export_member`).
"""
