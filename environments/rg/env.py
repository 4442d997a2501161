"""The env posing reasoning-gym tasks: :class:`GeneratedTaskEnv` stepping off the event loop."""

from __future__ import annotations

from agentgym.environments.puzzles.generated import GeneratedTaskEnv


class ReasoningGymEnv(GeneratedTaskEnv):
    """A single-turn env over one ``rg/<dataset>`` generator (``generator="rg/sudoku"``).

    Items are made and answers scored in the reasoning-gym worker process, which can take up to the
    scorer's time limit, so ``areset``/``astep`` wait in a worker thread instead of blocking the
    event loop of an async rollout.
    """

    family = "rg"
    step_in_thread = True

    def verify_timeout_s(self) -> float:
        """A backstop only; the worker enforces ``score_timeout`` itself (killing the scorer).

        Calls queue for the one worker and its first call starts it, so this waits much longer.
        """
        return max(120.0, 10.0 * float(self.generator.config.score_timeout))  # type: ignore[attr-defined]
