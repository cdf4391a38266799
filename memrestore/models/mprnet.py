"""MPRNet (Zamir et al., "Multi-Stage Progressive Image Restoration", CVPR 2021): MemoryNet's backbone.

Three stages restore progressively: stage 1 runs a U-Net encoder-decoder on four non-overlapping
quarter patches, stage 2 on the two halves, stage 3 an original-resolution subnetwork (ORSNet) of
channel-attention blocks. Supervised attention modules (SAM) pass attention-gated features and a
stage image forward; cross-stage feature fusion (1x1 convs) adds stage-1 encoder/decoder features
into stage 2, and stage-2 features into ORSNet. Each stage returns an image; all are supervised.

Published sizes: deblurring n_feat 96 / scale_unetfeats 48 / scale_orsnetfeats 32 (20.1 M params);
deraining (and MemoryNet) n_feat 40 / 20 / 16. Defaults here are the deraining sizes; num_cab 8.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import ChannelAttention
from .interface import RestorationModel


def conv(cin: int, cout: int, kernel: int = 3, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2, bias=bias)


class CAB(nn.Module):
    """Channel-attention block: conv -> PReLU -> conv -> channel attention, plus the input."""

    def __init__(self, channels: int, reduction: int = 4) -> None:
        super().__init__()
        self.body = nn.Sequential(conv(channels, channels), nn.PReLU(), conv(channels, channels))
        self.attention = ChannelAttention(channels, reduction, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.attention(self.body(x))


def cabs(channels: int, count: int, reduction: int) -> nn.Sequential:
    return nn.Sequential(*(CAB(channels, reduction) for _ in range(count)))


class Resample(nn.Module):
    """Bilinear rescale by ``factor`` followed by a 1x1 conv changing the channel count."""

    def __init__(self, cin: int, cout: int, factor: float) -> None:
        super().__init__()
        self.factor = factor
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=self.factor, mode="bilinear", align_corners=False))


class Encoder(nn.Module):
    """Three-level U-Net encoder (channels n, n+s, n+2s); with ``fusion`` it adds 1x1-projected
    encoder and decoder features of the previous stage at every level."""

    def __init__(self, n: int, s: int, reduction: int, fusion: bool) -> None:
        super().__init__()
        widths = [n, n + s, n + 2 * s]
        self.levels = nn.ModuleList(cabs(c, 2, reduction) for c in widths)
        self.downs = nn.ModuleList([Resample(widths[0], widths[1], 0.5), Resample(widths[1], widths[2], 0.5)])
        if fusion:
            self.fuse_enc = nn.ModuleList(nn.Conv2d(c, c, 1, bias=False) for c in widths)
            self.fuse_dec = nn.ModuleList(nn.Conv2d(c, c, 1, bias=False) for c in widths)

    def forward(self, x: torch.Tensor, previous: tuple[list, list] | None = None) -> list[torch.Tensor]:
        outs = []
        for i, level in enumerate(self.levels):
            if i:
                x = self.downs[i - 1](x)
            x = level(x)
            if previous is not None:
                x = x + self.fuse_enc[i](previous[0][i]) + self.fuse_dec[i](previous[1][i])
            outs.append(x)
        return outs


class Decoder(nn.Module):
    """Three-level U-Net decoder with channel-attention on the skip connections."""

    def __init__(self, n: int, s: int, reduction: int) -> None:
        super().__init__()
        widths = [n, n + s, n + 2 * s]
        self.levels = nn.ModuleList(cabs(c, 2, reduction) for c in widths)
        self.skips = nn.ModuleList(CAB(c, reduction) for c in widths[:2])
        self.ups = nn.ModuleList([Resample(widths[1], widths[0], 2.0), Resample(widths[2], widths[1], 2.0)])

    def forward(self, encoded: list[torch.Tensor]) -> list[torch.Tensor]:
        dec3 = self.levels[2](encoded[2])
        dec2 = self.levels[1](self.ups[1](dec3) + self.skips[1](encoded[1]))
        dec1 = self.levels[0](self.ups[0](dec2) + self.skips[0](encoded[0]))
        return [dec1, dec2, dec3]


class SAM(nn.Module):
    """Supervised attention module: predicts a stage image and gates features with it (1x1 convs,
    as in the published MPRNet)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1, self.conv2, self.conv3 = conv(channels, channels, 1), conv(channels, 3, 1), conv(3, channels, 1)

    def forward(self, x: torch.Tensor, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        restored = self.conv2(x) + image
        return self.conv1(x) * torch.sigmoid(self.conv3(restored)) + x, restored


class ORB(nn.Module):
    def __init__(self, channels: int, count: int, reduction: int) -> None:
        super().__init__()
        self.body = nn.Sequential(cabs(channels, count, reduction), conv(channels, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ORSNet(nn.Module):
    """Original-resolution subnetwork: three ORBs, each followed by fusion of stage-2 features."""

    def __init__(self, n: int, s_unet: int, s_ors: int, count: int, reduction: int) -> None:
        super().__init__()
        c = n + s_ors
        self.orbs = nn.ModuleList(ORB(c, count, reduction) for _ in range(3))
        ups = lambda level: nn.Sequential(*(Resample(n + (k + 1) * s_unet, n + k * s_unet, 2.0) for k in reversed(range(level))))
        self.up_enc = nn.ModuleList(ups(level) for level in range(3))
        self.up_dec = nn.ModuleList(ups(level) for level in range(3))
        self.fuse_enc = nn.ModuleList(nn.Conv2d(n, c, 1, bias=False) for _ in range(3))
        self.fuse_dec = nn.ModuleList(nn.Conv2d(n, c, 1, bias=False) for _ in range(3))

    def forward(self, x: torch.Tensor, encoded: list[torch.Tensor], decoded: list[torch.Tensor]) -> torch.Tensor:
        for i, orb in enumerate(self.orbs):
            x = orb(x)
            x = x + self.fuse_enc[i](self.up_enc[i](encoded[i])) + self.fuse_dec[i](self.up_dec[i](decoded[i]))
        return x


def _split(x: torch.Tensor, dim: int) -> list[torch.Tensor]:
    half = x.shape[dim] // 2
    return list(x.split([half, x.shape[dim] - half], dim=dim))


class MPRNet(RestorationModel):
    """The three-stage backbone. ``forward(x, stage_inputs)`` restores ``x``; ``stage_inputs``
    (optional, three images) replace the image each stage reads (MemoryNet's released placement)."""

    size_multiple = 8  # quarters, then two 2x downsamplings

    def __init__(self, n_feat: int = 40, scale_unetfeats: int = 20, scale_orsnetfeats: int = 16,
                 num_cab: int = 8, reduction: int = 4) -> None:
        super().__init__()
        n, s, so = n_feat, scale_unetfeats, scale_orsnetfeats
        self.shallow = nn.ModuleList(nn.Sequential(conv(3, n), CAB(n, reduction)) for _ in range(3))
        self.encoder1, self.decoder1 = Encoder(n, s, reduction, fusion=False), Decoder(n, s, reduction)
        self.encoder2, self.decoder2 = Encoder(n, s, reduction, fusion=True), Decoder(n, s, reduction)
        self.orsnet = ORSNet(n, s, so, num_cab, reduction)
        self.sam12, self.sam23 = SAM(n), SAM(n)
        self.concat12 = conv(2 * n, n)
        self.concat23 = conv(2 * n, n + so)
        self.tail = conv(n + so, 3)

    def stages(self, images: list[torch.Tensor], shallow_extra: list[torch.Tensor | None] | None = None) -> list[torch.Tensor]:
        """Run the three stages on (possibly different) input images of equal, padded size;
        ``shallow_extra`` is added to each stage's shallow features (feature-level memory)."""
        extra = shallow_extra or [None, None, None]
        add = lambda f, e: f if e is None else f + e
        # Stage 1: four non-overlapping quarters, each processed on its own (shared weights, so they
        # run as one batch of 4B patches); features are re-assembled into halves for the decoder.
        image_halves = _split(images[0], 2)
        quarters = [q for half in image_halves for q in _split(half, 3)]
        extra_quarters = [q for half in _split(extra[0], 2) for q in _split(half, 3)] if extra[0] is not None else None
        feats = add(self.shallow[0](torch.cat(quarters, 0)), None if extra_quarters is None else torch.cat(extra_quarters, 0))
        enc = self.encoder1(feats)
        pieces = lambda t: t.chunk(4, 0)  # -> ltop, rtop, lbot, rbot (chunk keeps the batch size dynamic in exports)
        halves = lambda t: [torch.cat(pieces(t)[0:2], 3), torch.cat(pieces(t)[2:4], 3)]  # top, bottom
        enc_halves = [halves(level) for level in enc]
        enc1 = [[lvl[k] for lvl in enc_halves] for k in range(2)]
        dec1 = [self.decoder1(e) for e in enc1]
        sam = [self.sam12(d[0], img) for d, img in zip(dec1, image_halves)]
        stage1 = torch.cat([img for _, img in sam], 2)
        # Stage 2: the two halves, fused with stage-1 features.
        extra_halves = _split(extra[1], 2) if extra[1] is not None else [None, None]
        enc2 = []
        for k, (image_half, (sam_feat, _)) in enumerate(zip(_split(images[1], 2), sam)):
            feat_half = add(self.shallow[1](image_half), extra_halves[k])
            enc2.append(self.encoder2(self.concat12(torch.cat([feat_half, sam_feat], 1)), (enc1[k], dec1[k])))
        enc2 = [torch.cat([enc2[0][i], enc2[1][i]], 2) for i in range(3)]
        dec2 = self.decoder2(enc2)
        sam_feat3, stage2 = self.sam23(dec2[0], images[1])
        # Stage 3: full resolution.
        feats3 = add(self.shallow[2](images[2]), extra[2])
        x = self.orsnet(self.concat23(torch.cat([feats3, sam_feat3], 1)), enc2, dec2)
        stage3 = self.tail(x) + images[2]
        return [stage1, stage2, stage3]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        from ..tensors import pad_to_multiple

        padded, (h, w) = pad_to_multiple(x, self.size_multiple)
        return [out[..., :h, :w] for out in self.stages([padded] * 3)]
