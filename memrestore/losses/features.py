"""Feature spaces for perceptual, contrastive (MemoryNet) and model-contrastive (MCLIR SPN) losses.

One pluggable extractor serves all of them, returning a list of feature maps from shallow to deep:

* ``vgg19``: torchvision's VGG19 with ImageNet weights loaded from a *local* file (safetensors, or a
  torchvision ``.pth`` read with ``weights_only=True``), layers relu1_1, relu2_1, relu3_1, relu4_1,
  relu5_1 and ImageNet input normalisation: the usual choice of AECR-Net / MemoryNet.
* ``vgg16``: layers relu1_2, relu2_2, relu3_3 (MCLIR's published perceptual space), same loading.
* ``random``: a fixed, randomly initialised VGG-style network (seeded, so every run and every
  checkpoint sees the same space); needs no download. Random conv features preserve local structure
  and are a known working perceptual space when pretrained weights are unavailable.
* ``pixel``: the image itself at 1, 1/2, 1/4, 1/8 and 1/16 scale (average pooling): the no-network
  baseline, five levels so VGG19's layer weights apply unchanged.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ..errors import ConfigError

_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)
# Indices (in torchvision's ``features`` Sequential) after which each named ReLU output is taken.
VGG_LAYERS = {
    "vgg19": {"relu1_1": 1, "relu2_1": 6, "relu3_1": 11, "relu4_1": 20, "relu5_1": 29},
    "vgg16": {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15},
}
# Feature maps each space returns (the random network and the pixel pyramid have five levels, so
# VGG19's layer weights apply unchanged).
FEATURE_LEVELS = {**{name: len(layers) for name, layers in VGG_LAYERS.items()}, "random": 5, "pixel": 5}


class FeatureExtractor(nn.Module):
    """A frozen network cut into slices; ``forward`` returns the output of every slice."""

    def __init__(self, slices: list[nn.Module], normalise: bool) -> None:
        super().__init__()
        self.slices = nn.ModuleList(slices)
        self.normalise = normalise
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FeatureExtractor":
        return super().train(False)  # always frozen, whatever the parent does

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        if self.normalise:
            x = (x - self.mean) / self.std
        features = []
        for block in self.slices:
            x = block(x)
            features.append(x)
        return features


def _load_vgg_weights(model: nn.Module, path: str) -> None:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"{file}: VGG weights file not found")
    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        state = load_file(str(file))
    else:
        try:
            state = torch.load(str(file), map_location="cpu", weights_only=True)
        except Exception as exc:
            raise ConfigError(f"{file}: cannot read VGG weights ({exc})") from exc
    missing, unexpected = model.load_state_dict(state, strict=False)
    if [k for k in missing if k.startswith("features")]:
        raise ConfigError(f"{file}: not VGG weights of the expected architecture (missing {missing[0]})")


_SHARED: dict[tuple, FeatureExtractor] = {}


def build_feature_extractor(name: str = "random", weights: str | None = None, seed: int = 0) -> FeatureExtractor:
    """The feature space ``name`` (vgg19 | vgg16 | random | pixel); VGG needs a local ``weights`` file.

    Extractors are frozen and stateless, so losses asking for the same space share one instance."""
    key = (name, weights, seed)
    if key not in _SHARED:
        _SHARED[key] = _build(name, weights, seed)
    return _SHARED[key]


def _build(name: str, weights: str | None, seed: int) -> FeatureExtractor:
    if name in VGG_LAYERS:
        if not weights:
            raise ConfigError(f"{name} features need ImageNet weights from a local file: set weights: PATH "
                              "(nothing is downloaded), or use features: random")
        import torchvision

        vgg = getattr(torchvision.models, name)(weights=None)
        _load_vgg_weights(vgg, weights)
        cuts = list(VGG_LAYERS[name].values())
        layers = list(vgg.features.children())
        slices = [nn.Sequential(*layers[start + 1 if i else 0 : end + 1]) for i, (start, end) in enumerate(zip([-1] + cuts, cuts))]
        return FeatureExtractor(slices, normalise=True)
    if name == "random":
        generator_state = torch.random.get_rng_state()
        torch.manual_seed(seed)
        try:
            widths = [3, 16, 32, 64, 96, 128]
            slices = []
            for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:])):
                block = [nn.MaxPool2d(2)] if i else []
                block += [nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU()]
                slices.append(nn.Sequential(*block))
            extractor = FeatureExtractor(slices, normalise=False)
            for module in extractor.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                    nn.init.zeros_(module.bias)
        finally:
            torch.random.set_rng_state(generator_state)  # do not disturb the training RNG stream
        return extractor
    if name == "pixel":
        slices = [nn.Identity(), *(nn.AvgPool2d(2, ceil_mode=True) for _ in range(4))]
        return FeatureExtractor(slices, normalise=False)
    raise ConfigError(f"unknown feature space {name!r} (vgg19, vgg16, random or pixel)")
