"""Benchmarks: our agent, client and stack measured side by side with the seed's own approach."""
