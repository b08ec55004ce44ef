"""The speed and accuracy scripts, run from the repository root as ``python -m benchmarks.NAME``; BENCHMARKS.md
says what each measures."""
