"""The benchmarks: `ask.py` runs them, `seed.py` fills the database, `load.py` drives the server."""
