"""Core types and the Env base class; depends on nothing else in AgentGym."""

from agentgym.core.agent import Agent, AgentReply, EpisodeContext, ScriptedPolicy
from agentgym.core.env import Action, Env, Observation, StepResult
from agentgym.core.messages import ImagePart, Message, TextPart, ToolCall
from agentgym.core.task import Task
from agentgym.core.tools import ToolSpec
from agentgym.core.verdict import Verdict

__all__ = [
    "Action",
    "Agent",
    "AgentReply",
    "Env",
    "EpisodeContext",
    "ImagePart",
    "Message",
    "Observation",
    "ScriptedPolicy",
    "StepResult",
    "Task",
    "TextPart",
    "ToolCall",
    "ToolSpec",
    "Verdict",
]
