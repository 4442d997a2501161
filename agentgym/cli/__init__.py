"""The ``agentgym`` command line (typer)."""
