"""Domain of the billing service: models, commands and rules; no I/O."""
