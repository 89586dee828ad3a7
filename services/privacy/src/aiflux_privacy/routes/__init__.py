"""HTTP routes of the privacy service, split by audience."""
