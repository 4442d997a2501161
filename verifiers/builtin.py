"""The built-in verifiers by name (importing this registers them; classes load on first use)."""

from agentgym.verifiers.base import register_verifier

BUILTIN_VERIFIERS = {
    "sat": "agentgym.verifiers.rule.sat:SatVerifier",
}

for _name, _entry in BUILTIN_VERIFIERS.items():
    register_verifier(_name, _entry)
