"""The held-out benchmark family: inputs the extraction code is never tuned on, drawn at bench
time from a seed (never committed as data). See bench/README.md."""

from bench.heldout.family import DEFAULT_SEED, HeldoutInput, generate, plan

__all__ = ["DEFAULT_SEED", "HeldoutInput", "generate", "plan"]
