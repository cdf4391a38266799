"""MemoryNet: backbone fidelity (published sizes), memory addressing, placements, contrastive losses,
checkpoints and inspection."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import memrestore
from memrestore.checkpoint import save_checkpoint
from memrestore.recipes import load_config
from memrestore.errors import ConfigError
from memrestore.losses import build_loss
from memrestore.models import build_model
from memrestore.models.complexity import count_parameters
from memrestore.models.memory import HierarchicalMemory, hard_shrink_normalise
from memrestore.models.mprnet import MPRNet

TINY = dict(n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=1)


def test_backbone_sizes_match_the_published_models():
    # MPRNet (CVPR 2021) deblurring: 20.1 M parameters; MemoryNet's released deraining model: 3.64 M,
    # of which the memory is 336 (github.com/zhangbaijin/MemoryNet, the released model's memory bank).
    assert count_parameters(MPRNet(96, 48, 32)) == pytest.approx(20.1e6, rel=0.005)
    released = build_model("memorynet", memory="released")
    plain = build_model("memorynet", memory="none")
    assert count_parameters(released) - count_parameters(plain) == 336
    assert count_parameters(released) == pytest.approx(3.64e6, rel=0.001)
    from memrestore.models.complexity import count_macs

    assert count_macs(released, 256, 256) == pytest.approx(141e9, rel=0.005)  # 141 GMACs, released code


@pytest.mark.parametrize("placement", ["none", "released", "feature"])
@pytest.mark.parametrize("size", [(21, 27), (32, 40), (7, 9)])
def test_any_size_and_three_supervised_stages(placement, size):
    model = build_model("memorynet", memory=placement, **TINY)
    outputs = model(torch.rand(2, 3, *size))
    assert len(outputs) == 3 and all(o.shape == (2, 3, *size) for o in outputs)


@pytest.mark.parametrize("placement", ["released", "feature"])
def test_gradients_reach_the_memory_items(placement):
    model = build_model("memorynet", memory=placement, **TINY)
    with torch.no_grad():  # let the zero-initialised injections pass gradient back
        for p in model.parameters():
            if p.abs().sum() == 0:
                p.fill_(0.01)
    model(torch.rand(1, 3, 16, 16))[-1].mean().backward()
    assert model.memory.items.grad is not None and model.memory.items.grad.abs().sum() > 0
    assert model.memory.part_gate.weight.grad.abs().sum() > 0


def test_addressing_rows_sum_to_one_after_shrinkage():
    torch.manual_seed(0)
    memory = HierarchicalMemory(dim=8, classes=4, prototypes=2, parts=3, shrink=0.05)
    readout = memory(torch.randn(2, 8, 5, 6) * 3)
    for level, size in memory.sizes.items():
        weights = readout.weights[level]
        assert weights.shape == (2, 5, 6, size)
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, 5, 6))
        assert (weights >= 0).all()
    assert (readout.weights["part"] == 0).float().mean() > 0.2  # shrinkage made addressing sparse
    assert readout.readouts["semantic"].shape == (2, 8, 5, 6)


def test_hard_shrinkage_zeroes_small_weights():
    w = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    out = hard_shrink_normalise(w, threshold=0.1)
    assert out[0, 3] == 0 and out[0, :3].min() > 0 and out.sum().item() == pytest.approx(1.0)


def test_feature_placement_starts_as_the_backbone():
    plain = build_model("memorynet", memory="none", **TINY).eval()
    augmented = build_model("memorynet", memory="feature", **TINY).eval()
    augmented.backbone.load_state_dict(plain.backbone.state_dict())
    x = torch.rand(1, 3, 24, 24)
    for a, b in zip(plain(x), augmented(x)):
        torch.testing.assert_close(a, b)


def test_auxiliary_memory_losses_are_trained_and_logged(tmp_path, paired_root):
    options = {f"model.{k}": v for k, v in TINY.items()}
    overrides = [f"{k}={json.dumps(v)}" for k, v in {
        "name": "mem", "output_dir": str(tmp_path / "runs"), "model.name": "memorynet", **options,
        "model.entropy_weight": 0.01, "model.compact_weight": 0.1, "model.separate_weight": 0.1,
        "data.train.root": str(paired_root), "data.train.patch_size": 16, "data.train.batch_size": 2,
        "train.iterations": 2, "train.log_every": 1,
        "train.losses": [{"name": "charbonnier"}, {"name": "contrastive", "weight": 0.1, "stages": "final"}],
    }.items()]
    from memrestore.engine.trainer import Trainer

    trainer = Trainer(load_config(None, overrides), progress=False)
    trainer.fit()
    record = json.loads(open(trainer.run_dir / "log.jsonl").readline())
    for key in ("loss_memory_entropy", "loss_memory_compact", "loss_memory_separate", "loss_contrastive"):
        assert key in record and np.isfinite(record[key])


# -- contrastive losses ----------------------------------------------------------------------------

def test_contrastive_loss_behaviour():
    torch.manual_seed(0)
    loss = build_loss("contrastive")
    target = torch.rand(2, 3, 32, 32)
    degraded = (target + 0.3 * torch.rand_like(target)).clamp(0, 1)
    assert loss(target, target, degraded).item() == pytest.approx(0.0, abs=1e-6)
    at_negative = loss(degraded, target, degraded)
    assert torch.isfinite(at_negative) and at_negative > 1.0  # guarded denominator
    values = [loss(degraded + t * (target - degraded), target, degraded).item() for t in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert values == sorted(values, reverse=True)
    with_batch = build_loss("contrastive", negatives=["input", "batch"])
    assert torch.isfinite(with_batch(degraded, target, degraded))


def test_global_contrastive_prefers_the_clean_image():
    torch.manual_seed(0)
    loss = build_loss("contrastive_global")
    target = torch.rand(3, 3, 32, 32)
    degraded = (target * 0.5 + 0.5 * torch.rand_like(target)).clamp(0, 1)
    assert loss(target, target, degraded) < loss(degraded, target, degraded)


@pytest.fixture
def offline_torchvision_cache(tmp_path, monkeypatch):
    """torchvision's weight cache in a temporary folder, downloads failing as on a machine offline;
    feature extractors built afresh."""
    import urllib.error

    from memrestore.losses import features

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("network unreachable")

    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "hub"))
    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    monkeypatch.setattr(features, "_SHARED", {})
    return tmp_path / "hub" / "checkpoints"


def test_vgg_layer_table_names_torchvisions_relus():
    import torchvision

    from memrestore.losses.features import VGG_RELUS

    for name, out in (("vgg16", {"relu1_2": 64, "relu3_3": 256, "relu5_1": 512}),
                      ("vgg19", {"relu1_1": 64, "relu3_4": 256, "relu4_1": 512, "relu5_4": 512})):
        layers = torchvision.models.__dict__[name](weights=None).features
        relus = [i for i, m in enumerate(layers) if isinstance(m, torch.nn.ReLU)]
        assert sorted(VGG_RELUS[name].values()) == relus
        for layer, channels in out.items():
            assert layers[VGG_RELUS[name][layer] - 1].out_channels == channels


def test_vgg_weights_from_torchvisions_cache_else_a_one_line_error(offline_torchvision_cache):
    import torchvision

    from memrestore.engine.spn import SelfPriorNegatives
    from memrestore.config import SPNConfig

    with pytest.raises(ConfigError, match=r"vgg16 features: ImageNet weights are not in torchvision's cache .* "
                                          r"could not be downloaded \(.*network unreachable"):
        build_loss("contrastive", features="vgg16")
    generated = torchvision.models.vgg16(weights=None).state_dict()  # stands in for IMAGENET1K_V1
    offline_torchvision_cache.mkdir(parents=True, exist_ok=True)
    torch.save(generated, offline_torchvision_cache / "vgg16-397923af.pth")
    loss = build_loss("contrastive", features="vgg16")  # MemoryNet's contrastive: AECR-Net's layers
    maps = loss.phi(torch.rand(1, 3, 32, 32))
    assert [m.shape[1] for m in maps] == [64, 128, 256, 512, 512]
    assert [m.shape[-1] for m in maps] == [32, 16, 8, 4, 2]
    torch.testing.assert_close(loss.phi.slices[0][0].weight, generated["features.0.weight"])
    spn = SelfPriorNegatives(torch.nn.Identity(), SPNConfig(enabled=True, features="vgg16"), 10)  # MCLIR's layers
    assert [m.shape[1:] for m in spn.phi(torch.rand(1, 3, 32, 32))] == [(64, 32, 32), (128, 16, 16), (256, 8, 8)]
    with pytest.raises(ConfigError, match="vgg16 has no layer 'relu3_4'"):
        build_loss("contrastive", features="vgg16", layers=["relu1_1", "relu2_1", "relu3_1", "relu3_4", "relu5_1"])


def test_feature_space_errors_and_local_vgg_weights(tmp_path, offline_torchvision_cache):
    with pytest.raises(ConfigError, match="could not be downloaded"):
        build_loss("contrastive", features="vgg19")
    with pytest.raises(ConfigError, match="vgg19.safetensors: VGG weights file not found"):
        build_loss("contrastive", features="vgg19", weights=str(tmp_path / "vgg19.safetensors"))
    (tmp_path / "broken.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ConfigError, match="broken.safetensors: cannot read VGG weights"):
        build_loss("contrastive", features="vgg19", weights=str(tmp_path / "broken.safetensors"))
    with pytest.raises(ConfigError, match="layer_weights has 2 entries"):
        build_loss("contrastive", layer_weights=[1.0, 1.0])
    import torchvision

    features = {f"features.{k}": v for k, v in torchvision.models.vgg19(weights=None).features.state_dict().items()}
    save_file(features, str(tmp_path / "vgg19.safetensors"))
    loss = build_loss("contrastive", features="vgg19", weights=str(tmp_path / "vgg19.safetensors"))
    maps = loss.phi(torch.rand(1, 3, 32, 32))
    assert [m.shape[1] for m in maps] == [64, 128, 256, 512, 512]
    assert [m.shape[-1] for m in maps] == [32, 16, 8, 4, 2]
    assert not any(p.requires_grad for p in loss.phi.parameters())
    with pytest.raises(ConfigError, match="vgg19.safetensors: not vgg16 weights"):  # another architecture
        build_loss("contrastive", features="vgg16", weights=str(tmp_path / "vgg19.safetensors"))


# -- checkpoints, export, inspection ---------------------------------------------------------------

@pytest.fixture
def memorynet_checkpoint(tmp_path):
    config = load_config(None, ["model.name=memorynet", *(f"model.{k}={v}" for k, v in TINY.items())])
    model = memrestore.model_from_config(config.model)
    return save_checkpoint(tmp_path / "memorynet", model, config), model


def test_memorynet_round_trips_through_safetensors(memorynet_checkpoint):
    path, model = memorynet_checkpoint
    restorer = memrestore.load(path, device="cpu")
    x = torch.rand(1, 3, 20, 28)
    torch.testing.assert_close(restorer.restore_tensor(x), model.eval()(x)[-1].clamp(0, 1))


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_memorynet_exports(tmp_path, fmt):
    from memrestore.export import export

    model = build_model("memorynet", memory="feature", **TINY).eval()
    with torch.no_grad():
        for module in model.memory.modules():
            for p in module.parameters(recurse=False):
                p.add_(0.01)
        for layer in model.inject:
            layer.weight.fill_(0.05)
    assert export(model, tmp_path / ("m.onnx" if fmt == "onnx" else "m.pt"), fmt) <= 1e-4


def test_inspect_memory_writes_a_png(tmp_path, memorynet_checkpoint):
    from memrestore.io import write_image

    path, _ = memorynet_checkpoint
    write_image(tmp_path / "photo.png", np.random.default_rng(0).random((30, 44, 3)))
    result = subprocess.run([sys.executable, "-m", "memrestore.cli.main", "inspect", "memory", str(path),
                             str(tmp_path / "photo.png"), "-o", str(tmp_path / "map.png")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    from PIL import Image

    assert Image.open(tmp_path / "map.png").size[0] > 600
    plain = tmp_path / "plain"
    config = load_config(None, ["model.width=8"])
    save_checkpoint(plain, memrestore.model_from_config(config.model), config)
    result = subprocess.run([sys.executable, "-m", "memrestore.cli.main", "inspect", "memory", str(plain) + ".safetensors",
                             str(tmp_path / "photo.png")], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and "no memory module" in result.stderr


def test_pixel_feature_space_is_an_image_pyramid():
    loss = build_loss("contrastive", features="pixel")
    x = torch.rand(1, 3, 33, 32)
    maps = loss.phi(x)
    assert torch.equal(maps[0], x) and [m.shape[-2:] for m in maps][1:] == [(17, 16), (9, 8), (5, 4), (3, 2)]
    torch.testing.assert_close(maps[1][..., :16, :], torch.nn.functional.avg_pool2d(x[..., :32, :], 2))
    with pytest.raises(ConfigError, match="unknown feature space 'vgg11'"):
        build_loss("contrastive", features="vgg11")
