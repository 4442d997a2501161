"""Per-row seeded sampling for batched generation: a reply does not depend on its batch-mates."""

from __future__ import annotations

from typing import Any


class SeededSampler:
    """Logits processor that samples each row with its own generator (greedy then picks it)."""

    def __init__(self, seeds: list[int], temperature: float, top_p: float) -> None:
        import torch

        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.temperature, self.top_p = temperature, top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        """Return scores that make greedy decoding pick each row's seeded sample."""
        import torch

        probs = torch.softmax(scores.float() / self.temperature, dim=-1).cpu()
        if self.top_p < 1.0:
            ordered, index = probs.sort(dim=-1, descending=True)
            ordered[(ordered.cumsum(dim=-1) - ordered) > self.top_p] = 0.0
            probs = torch.zeros_like(probs).scatter(1, index, ordered)
        picks = [torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(self.generators)]
        out = torch.full_like(scores, float("-inf"))
        rows = torch.arange(scores.shape[0], device=scores.device)
        out[rows, torch.cat(picks).to(scores.device)] = 0.0
        return out
