"""The demo county and synthetic data, kept out of the engine: `county.build_demo` makes every
record through the same commands staff use; `samples` feeds tests and benchmarks only."""
