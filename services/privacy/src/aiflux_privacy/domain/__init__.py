"""Domain of the privacy service: models, commands and rules; no I/O."""
