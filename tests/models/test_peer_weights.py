"""A peer project's released weights restore directly: spandrel detects the architecture from a state
dict read with ``weights_only=True``; anything else is a one-line error."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
import torch

import memrestore
from memrestore.errors import CheckpointError
from memrestore.io import read_image, write_image

from tests.helpers import run_cli, smooth_image

NAFNet = pytest.importorskip("spandrel.architectures.NAFNet").NAFNet


@pytest.fixture
def released(tmp_path):
    """A small NAFNet saved the way BasicSR releases weights ({"params": state_dict})."""
    torch.manual_seed(0)
    net = NAFNet(img_channel=3, width=8, middle_blk_num=1, enc_blk_nums=[1, 1], dec_blk_nums=[1, 1]).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.05)
    path = tmp_path / "NAFNet-tiny.pth"
    torch.save({"params": net.state_dict()}, path)
    return net, path


def test_released_weights_restore_like_the_network_itself(tmp_path, rng, released):
    net, path = released
    restorer = memrestore.load(path, device="cpu")
    assert restorer.metadata["peer"] == "NAFNet" and restorer.config.model.name == "NAFNet"
    image = smooth_image(rng, 40, 52)  # not a multiple of NAFNet's 4: padded and cropped back
    with torch.no_grad():
        x = torch.from_numpy(image.transpose(2, 0, 1).copy())[None]
        padded = torch.nn.functional.pad(x, (0, 4 - 52 % 4 if 52 % 4 else 0, 0, 0), mode="reflect")
        direct = net(padded)[..., :40, :52].clamp(0, 1)[0].numpy().transpose(1, 2, 0)
    assert np.abs(restorer(image) - direct).max() < 1e-5
    info = run_cli("info", str(path))
    assert info.returncode == 0 and "released NAFNet weights" in info.stdout and "parameters" in info.stdout
    write_image(tmp_path / "in" / "photo.png", image)
    done = run_cli("restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--checkpoint", str(path))
    assert done.returncode == 0, done.stderr
    restored = read_image(tmp_path / "out" / "photo.png").pixels
    assert np.abs(restored.astype(float) / 255 - restorer(read_image(tmp_path / "in" / "photo.png").pixels) / 255).max() < 1e-6 + 1 / 255


def test_weights_that_are_not_a_known_restoration_network(tmp_path, rng):
    unknown = tmp_path / "unknown.pth"
    torch.save({"conv.weight": torch.zeros(4, 3, 3, 3)}, unknown)
    with pytest.raises(CheckpointError, match=r"unknown\.pth: not weights of an architecture spandrel knows"):
        memrestore.load(unknown, device="cpu")
    pickled = tmp_path / "object.pth"
    torch.save({"model": argparse.Namespace(layers=3)}, pickled)  # loading it would need arbitrary unpickling
    write_image(tmp_path / "in" / "photo.png", smooth_image(rng))
    done = run_cli("restore", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--checkpoint", str(pickled))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot be read safely as weights" in done.stderr


def test_super_resolution_weights_are_refused(tmp_path):
    rrdb = pytest.importorskip("spandrel.architectures.ESRGAN").ESRGAN
    net = rrdb(in_nc=3, out_nc=3, num_filters=8, num_blocks=1, scale=2)
    path = tmp_path / "sr.pth"
    torch.save(net.state_dict(), path)
    with pytest.raises(CheckpointError, match=r"sr\.pth: a .* model at scale 2 .*memrestore restores RGB images at scale 1"):
        memrestore.load(path, device="cpu")
