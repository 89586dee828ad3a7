"""Policy data shipped with the kit: the processor registry (§6)."""
