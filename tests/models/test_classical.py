"""Learning-free baselines: the dark channel prior removes synthetic haze from a real photo."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from skimage import data
from skimage.transform import resize

from memrestore.metrics import psnr
from memrestore.models import build_model
from memrestore.models.classical import box_mean


def test_box_mean_is_the_clipped_window_mean():
    x = torch.rand(1, 1, 13, 17, dtype=torch.float64)
    expected = F.avg_pool2d(F.pad(x, (2, 2, 2, 2)), 5, stride=1) * 25 / F.avg_pool2d(
        F.pad(torch.ones_like(x), (2, 2, 2, 2)), 5, stride=1).mul(25)
    torch.testing.assert_close(box_mean(x, 2), expected)


def test_dark_channel_prior_removes_haze_from_a_photo():
    clean = resize(data.astronaut(), (128, 128), anti_aliasing=True).astype("float32")  # float RGB in [0, 1]
    transmission, airlight = 0.45, 0.92
    hazy = clean * transmission + airlight * (1 - transmission)  # the scattering model, constant depth
    model = build_model("dark_channel_prior", radius=20)
    with torch.no_grad():
        restored = model(torch.from_numpy(hazy.transpose(2, 0, 1).copy())[None])[0].numpy().transpose(1, 2, 0)
    assert not list(model.parameters())
    assert psnr(restored, clean) > psnr(hazy, clean) + 5.0
