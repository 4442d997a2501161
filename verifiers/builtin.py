"""The built-in verifiers by name (importing this registers them; classes load on first use)."""

from agentgym.verifiers.base import register_verifier

BUILTIN_VERIFIERS = {
    "sat": "agentgym.verifiers.rule.sat:SatVerifier",
    "exact": "agentgym.verifiers.rule.basic:ExactVerifier",
    "numeric": "agentgym.verifiers.rule.basic:NumericVerifier",
    "choice": "agentgym.verifiers.rule.basic:ChoiceVerifier",
    "set": "agentgym.verifiers.rule.basic:SetVerifier",
    "math": "agentgym.verifiers.rule.math:MathVerifier",
    "format": "agentgym.verifiers.rule.structure:FormatVerifier",
    "json": "agentgym.verifiers.rule.structure:JsonVerifier",
    "judge": "agentgym.verifiers.model.judge:JudgeVerifier",
    "grm": "agentgym.verifiers.model.judge:GRMVerifier",
    "hybrid": "agentgym.verifiers.hybrid:HybridVerifier",
}

for _name, _entry in BUILTIN_VERIFIERS.items():
    register_verifier(_name, _entry)
