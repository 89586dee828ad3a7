// The web client: filled in by the client work.
