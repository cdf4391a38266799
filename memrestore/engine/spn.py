"""MCLIR: model contrastive learning with the Self-Prior guided Negative loss (Wu, Jiang, Jiang, Liu,
"Learning from History: Task-agnostic Model Contrastive Learning for Image Restoration",
arXiv 2309.06023, Sec. 3; published code github.com/Aitical/MCLIR).

Negatives come from the model's own history: K frozen copies of the network, each refreshed every
N_k steps by theta_neg <- d * theta_neg + (1 - d) * theta once training has passed ``start`` (a fraction
of the iterations). Their outputs on the same input are computed without gradients in eval mode; only
parameters are averaged, buffers are copied. Two published forms of the loss on the final output y^:

* ``subtractive`` (the released code): -w * mean_k sum_l a_l * |phi_l(y^) - phi_l(y^-_k)|_1, added to the
  pixel loss; unbounded below, hence the small default weight 0.001;
* ``ratio`` (the paper's contrastive form): w * sum_l a_l * |phi_l(y^) - phi_l(y)|_1 /
  (mean_k |phi_l(y^) - phi_l(y^-_k)|_1 + eps), with the denominator guarded by ``eps`` so the loss stays
  finite when a negative equals the output (at the first refresh, say).

phi is the shared feature space of ``memrestore.losses.features``: with VGG, the released code's
relu1_2, relu2_2, relu3_3 of VGG16 (weights 0.2, 0.3, 0.5); otherwise its first ``len(layer_weights)``
levels. Cost: each active step runs the K negatives forward; ``every: k`` applies the term on every
k-th step only (weight scaled by k), an option of ours, not of the paper.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..config import SPNConfig
from ..losses.features import MCLIR_LAYERS, build_feature_extractor
from ..models import final_output
from .schedule import TermSchedule


class SelfPriorNegatives(nn.Module):
    """The negative models, their refresh schedule and the SPN loss."""

    def __init__(self, model: nn.Module, config: SPNConfig, total_iterations: int) -> None:
        super().__init__()
        self.config = config
        self.schedule = TermSchedule.of(config.start, config.every, total_iterations)
        self.negatives = nn.ModuleList(copy.deepcopy(model).requires_grad_(False).eval() for _ in config.intervals)
        self.phi = build_feature_extractor(config.features, config.feature_weights, layers=MCLIR_LAYERS)

    def train(self, mode: bool = True) -> "SelfPriorNegatives":
        return super().train(False)  # negatives always run in eval mode

    def active(self, step: int) -> bool:
        """Whether the SPN term is used at (0-based) optimizer step ``step``: from ``start`` on, every
        ``every``-th step."""
        return self.schedule.active(step)

    @torch.no_grad()
    def refresh(self, step: int, model: nn.Module) -> None:
        """After optimizer step ``step`` (1-based): update every negative whose interval divides it.
        The first update happens when training reaches ``start``."""
        start = self.schedule.start_step
        if step < start:
            return
        current = dict(model.named_parameters())
        for interval, negative in zip(self.config.intervals, self.negatives):
            if step != start and (step - start) % interval:
                continue
            for name, parameter in negative.named_parameters():
                parameter.mul_(self.config.decay).add_(current[name].detach(), alpha=1.0 - self.config.decay)
            for (name, buffer), (_, source) in zip(negative.named_buffers(), model.named_buffers()):
                buffer.copy_(source)

    @torch.no_grad()
    def negative_outputs(self, degraded: torch.Tensor) -> list[torch.Tensor]:
        return [final_output(negative(degraded)).float() for negative in self.negatives]

    def loss(self, output: torch.Tensor, target: torch.Tensor, negatives: list[torch.Tensor]) -> torch.Tensor:
        """The SPN term of one step, scaled by ``every`` so that applying it on every ``every``-th step
        pushes as hard on average as the published every-step term. The anchor's features carry the
        gradient; the negatives' (and, for the ratio form, the target's) come from one batched pass
        without gradients."""
        weights, batch = self.config.layer_weights, output.shape[0]
        anchor = self.phi(output)
        references = [*negatives, target] if self.config.form == "ratio" else negatives
        with torch.no_grad():
            levels = [level.split(batch) for level in self.phi(torch.cat(references))]
        to_negatives = [torch.stack([(anchor[l] - levels[l][k]).abs().mean() for k in range(len(negatives))]).mean()
                        for l in range(len(weights))]
        scale = self.config.weight * self.schedule.scale
        if self.config.form == "subtractive":
            return -scale * sum(w * d for w, d in zip(weights, to_negatives))
        positive = [(anchor[l] - levels[l][-1]).abs().mean() for l in range(len(weights))]
        return scale * sum(w * p / (d + self.config.eps) for w, p, d in zip(weights, positive, to_negatives))
