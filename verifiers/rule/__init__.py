"""Rule verifiers: pure functions of (task, response) returning a Verdict."""
