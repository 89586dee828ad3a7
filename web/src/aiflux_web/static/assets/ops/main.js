// The ops console: filled in by the console work.
