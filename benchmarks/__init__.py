"""Speed and memory benchmarks (`make bench`); targets live here, not in timed tests."""
