"""Domain of the generation service: models, commands and rules; no I/O."""
