"""Identity rules: passwords, account fields, ages, tokens (no I/O)."""
