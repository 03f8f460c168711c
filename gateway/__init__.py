"""The gateway: the one composition root. It imports every service, builds their applications,
the bus, relays and consumers (`runtime`), merges their GraphQL (`schema`) and serves it (`app`)."""
