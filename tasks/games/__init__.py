"""Generators of the built-in games (Cogito ergo ludo's grid games, Wordle, LMRL-Gym's question games)."""
