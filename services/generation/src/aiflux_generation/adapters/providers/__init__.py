"""Provider adapters: one per AI provider, each speaking that provider's real API."""
