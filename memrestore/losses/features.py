"""Feature spaces for perceptual, contrastive (MemoryNet) and model-contrastive (MCLIR SPN) losses.

One pluggable extractor serves all of them, returning a list of feature maps from shallow to deep:

* ``vgg16`` / ``vgg19``: torchvision's VGG with ImageNet weights and ImageNet input normalisation,
  cut after named ReLU layers. Each loss names its paper's layers: MCLIR's SPN relu1_2, relu2_2,
  relu3_3 of VGG16 (``MCLIR_LAYERS``); AECR-Net / MemoryNet's contrastive loss relu1_1 ... relu5_1 of
  VGG19 (``AECR_LAYERS``), which VGG16 also has under the same names: with VGG16, the only ImageNet
  VGG available offline here, the contrastive loss reads those layers of VGG16 instead.
  Weights come from, in order: an explicit ``weights`` file (safetensors in torchvision's key layout,
  or a torchvision ``.pth`` read with ``weights_only=True``); torchvision's own ImageNet weights from
  its cache (``$TORCH_HOME/hub/checkpoints``) or, failing that, downloaded there on the user's
  machine; otherwise a one-line error. Nothing is unpickled.
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
_VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}  # convolutions per block


def _relu_indices(blocks: tuple[int, ...]) -> dict[str, int]:
    """Index in torchvision's ``features`` Sequential of each named ReLU (conv, ReLU pairs; a max-pool
    after each block)."""
    indices, position = {}, 0
    for block, convolutions in enumerate(blocks, start=1):
        for conv in range(1, convolutions + 1):
            indices[f"relu{block}_{conv}"] = position + 1
            position += 2
        position += 1
    return indices


VGG_RELUS = {name: _relu_indices(blocks) for name, blocks in _VGG_BLOCKS.items()}
MCLIR_LAYERS = ("relu1_2", "relu2_2", "relu3_3")  # MCLIR's released code (Aitical/MCLIR): VGG16 perceptual layers
AECR_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")  # AECR-Net (Wu et al., CVPR 2021): VGG19
DEFAULT_VGG_LAYERS = {"vgg16": MCLIR_LAYERS, "vgg19": AECR_LAYERS}
FEATURE_SPACES = ("vgg16", "vgg19", "random", "pixel")
_FIXED_LEVELS = {"random": 5, "pixel": 5}  # the random network and the pixel pyramid have five levels


def feature_levels(name: str, layers: tuple[str, ...] | list[str] | None = None) -> int:
    """How many feature maps the space ``name`` returns (with ``layers`` for VGG)."""
    if name in VGG_RELUS:
        return len(layers or DEFAULT_VGG_LAYERS[name])
    return _FIXED_LEVELS[name]


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


def _read_state(file: Path) -> dict[str, torch.Tensor]:
    if file.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            return load_file(str(file))
        except Exception as exc:
            raise ConfigError(f"{file}: cannot read VGG weights ({str(exc).splitlines()[0]})") from None
    try:
        return torch.load(str(file), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConfigError(f"{file}: cannot read VGG weights ({str(exc).splitlines()[0]})") from None


def torchvision_vgg_state(name: str) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet weights of ``name``: from its cache, else downloaded into it (checked
    against the file's published hash, read with ``weights_only=True``); a one-line error otherwise."""
    import torchvision

    url = getattr(torchvision.models, f"VGG{name[3:]}_Weights").IMAGENET1K_V1.url
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
    if cached.is_file():
        return _read_state(cached)
    try:
        return torch.hub.load_state_dict_from_url(url, map_location="cpu", check_hash=True, weights_only=True)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"{name} features: ImageNet weights are not in torchvision's cache ({cached}) and "
                          f"could not be downloaded ({reason}); set weights: PATH to a local file "
                          "(safetensors in torchvision's key layout, or a .pth), or use features: random") from None


def vgg_network(name: str, weights: str | None) -> nn.Module:
    """torchvision's ``name`` with ImageNet weights (``weights`` file first, then torchvision's)."""
    import torchvision

    state = _read_state(Path(weights)) if weights and Path(weights).is_file() else None
    if weights and state is None:
        raise ConfigError(f"{weights}: VGG weights file not found")
    source = weights or f"torchvision's {name} ImageNet weights"
    vgg = getattr(torchvision.models, name)(weights=None)
    try:
        missing, _ = vgg.load_state_dict(state if state is not None else torchvision_vgg_state(name), strict=False)
    except RuntimeError as exc:  # a tensor of another shape: another architecture
        raise ConfigError(f"{source}: not {name} weights ({str(exc).splitlines()[-1].strip()})") from None
    if [k for k in missing if k.startswith("features")]:
        raise ConfigError(f"{source}: not {name} weights (missing {missing[0]})")
    return vgg


_SHARED: dict[tuple, FeatureExtractor] = {}


def build_feature_extractor(name: str = "random", weights: str | None = None, seed: int = 0,
                            layers: tuple[str, ...] | list[str] | None = None) -> FeatureExtractor:
    """The feature space ``name`` (vgg16 | vgg19 | random | pixel); ``layers``: VGG's named ReLUs to
    return (default: MCLIR's for vgg16, AECR-Net's for vgg19; random and pixel ignore it and always
    return their five levels).

    Extractors are frozen and stateless, so losses asking for the same space share one instance."""
    if name not in FEATURE_SPACES:
        raise ConfigError(f"unknown feature space {name!r} ({', '.join(FEATURE_SPACES)})")
    layers = tuple(layers or DEFAULT_VGG_LAYERS[name]) if name in VGG_RELUS else ()
    if name in VGG_RELUS:
        unknown = [layer for layer in layers if layer not in VGG_RELUS[name]]
        if unknown:
            raise ConfigError(f"{name} has no layer {unknown[0]!r} (layers: {', '.join(VGG_RELUS[name])})")
    key = (name, weights, seed, layers)
    if key not in _SHARED:
        _SHARED[key] = _build(name, weights, seed, layers)
    return _SHARED[key]


def _build(name: str, weights: str | None, seed: int, layers: tuple[str, ...]) -> FeatureExtractor:
    if name in VGG_RELUS:
        modules = list(vgg_network(name, weights).features.children())
        cuts = sorted(VGG_RELUS[name][layer] for layer in layers)
        slices = [nn.Sequential(*modules[start + 1 : end + 1]) for start, end in zip([-1] + cuts, cuts)]
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
    slices = [nn.Identity(), *(nn.AvgPool2d(2, ceil_mode=True) for _ in range(4))]  # pixel
    return FeatureExtractor(slices, normalise=False)
