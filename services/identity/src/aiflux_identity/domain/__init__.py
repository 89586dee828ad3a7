"""Domain of the identity service: models, commands and rules; no I/O."""
