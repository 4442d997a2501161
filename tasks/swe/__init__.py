"""SWE tasks: the bug-injection factory, task records, shipped data, patch grading."""
