"""Domain of the storage service: models, commands and rules; no I/O."""
