"""Model-based verifiers: a judge model's binary verdict (``judge``) or soft score (``grm``)."""

from agentgym.verifiers.model.judge import GRMVerifier, JudgeVerifier
from agentgym.verifiers.model.judge_cache import JudgeCache, cache_key
from agentgym.verifiers.model.judge_prompt import extract_final_answer

__all__ = ["GRMVerifier", "JudgeCache", "JudgeVerifier", "cache_key", "extract_final_answer"]
