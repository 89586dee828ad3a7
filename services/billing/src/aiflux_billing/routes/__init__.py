"""HTTP routes of the billing service, by audience: users, Stripe, generation, operators."""
