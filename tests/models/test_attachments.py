"""The model interface: memories attach at named places of any backbone (memrestore's and spandrel
peers'), start as the identity, train through the trainer's typed hooks, are inspected, exported and
described by ``info``; the CPU-first backbone ``fastunet``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from memrestore.checkpoint import save_checkpoint
from memrestore.recipes import load_config
from memrestore.errors import ConfigError
from memrestore.export import export
from memrestore.inference.tiling import receptive_field_radius
from memrestore.inspect_memory import memory_maps
from memrestore.models import build_model
from memrestore.models.interface import RestorationModel

from tests.helpers import run_cli

SMALL_FAST = {"width": 8, "depths": [1, 1], "middle": 1}
KINDS = {"items": {"kind": "items", "items": 4}, "hierarchical": {"kind": "hierarchical", "dim": 4}}


def outputs_equal_to_backbone(name: str, options: dict, memories: dict) -> bool:
    torch.manual_seed(0)
    plain = build_model(name, **options).eval()
    with_memory = build_model(name, **options, memories=memories).eval()
    missing, unexpected = with_memory.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and all(key.startswith("attachments.") for key in missing)
    x = torch.rand(1, 3, 37, 45)
    with torch.no_grad():
        return torch.equal(plain(x), with_memory(x))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("place", ["input", "encoder1", "encoder2", "bottleneck"])
def test_memory_attaches_at_every_place_and_starts_as_the_backbone(place, kind):
    assert outputs_equal_to_backbone("fastunet", SMALL_FAST, {place: KINDS[kind]})
    assert outputs_equal_to_backbone("unet", {"width": 8, "depths": [1], "middle": 1}, {"bottleneck": KINDS[kind]})


def test_every_registered_backbone_is_a_restoration_model_with_places():
    fast = build_model("fastunet", **SMALL_FAST)
    assert isinstance(fast, RestorationModel)
    assert fast.places == {"input": 8, "encoder1": 8, "encoder2": 16, "bottleneck": 32}
    assert fast.size_multiple == 8  # pixel-unshuffle 2, then two 2x levels
    assert build_model("mprnet", n_feat=8, scale_unetfeats=4, scale_orsnetfeats=4, num_cab=1).places == {}


def test_spandrel_peer_takes_a_memory_at_its_input():
    options = {"width": 8, "enc_blk_nums": [1, 1], "dec_blk_nums": [1, 1]}
    assert outputs_equal_to_backbone("nafnet", options, {"input": KINDS["hierarchical"]})
    peer = build_model("nafnet", **options, memories={"input": {"kind": "hierarchical", "dim": 4, "entropy": 0.1}})
    peer.train()
    out = peer(torch.rand(2, 3, 20, 24))
    losses = peer.auxiliary_losses()
    assert out.shape == (2, 3, 20, 24) and set(losses) == {"memory_entropy"}
    (out.mean() + losses["memory_entropy"]).backward()
    assert peer.attachments["input"].memory.items.grad.abs().sum() > 0


@pytest.mark.parametrize("memories, message", [
    ({"nowhere": {"kind": "items"}}, "has no place 'nowhere' (places: input, encoder1, encoder2, bottleneck)"),
    ({"bottleneck": {"kind": "lstm"}}, "expected a mapping with kind: items | hierarchical"),
    ({"bottleneck": {"kind": "items", "channels": 3}}, "channels is set by the place"),
    ({"bottleneck": {"kind": "items", "itemz": 3}}, "unknown key 'itemz'; did you mean 'items'?"),
])
def test_bad_memory_specs_are_config_errors(memories, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        build_model("fastunet", **SMALL_FAST, memories=memories)


def test_fastunet_has_a_finite_receptive_field_and_any_size():
    model = build_model("fastunet", **SMALL_FAST).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 29, 41)).shape == (1, 3, 29, 41)
    assert receptive_field_radius(model) is not None  # no global pooling: tiles exactly


def test_fastunet_global_context_pools_only_in_the_middle():
    plain, context = (build_model("fastunet", **SMALL_FAST, global_context=flag) for flag in (False, True))
    gates = lambda model: [name for name, _ in model.named_modules() if name.endswith("gate")]
    assert gates(plain) == [] and gates(context) and all(name.startswith("middle.") for name in gates(context))
    with torch.no_grad():
        for name, parameter in context.named_parameters():
            if name.endswith("scale"):  # residual scales start at 0: open them so the blocks contribute
                parameter.fill_(0.5)
    assert receptive_field_radius(context.eval()) is None  # the pooled context sees the whole image


def test_trainer_drives_two_memories_through_the_interface(tmp_path, paired_root):
    from memrestore.engine.trainer import Trainer

    memories = {"encoder1": {"kind": "hierarchical", "dim": 4, "compactness": 0.1}, "bottleneck": {"kind": "items", "items": 4}}
    config = load_config(None, ["model.name=fastunet", *[f"model.{k}={json.dumps(v)}" for k, v in SMALL_FAST.items()],
                                f"model.memories={json.dumps(memories)}", f"data.train.root={paired_root}",
                                "data.train.patch_size=32", "data.train.batch_size=2", "train.iterations=3",
                                "train.log_every=1", f"output_dir={tmp_path / 'runs'}"])
    trainer = Trainer(config, progress=False)
    before = trainer.model.attachments["bottleneck"].memory.items.clone()
    run = trainer.fit()
    logged = json.loads((run / "log.jsonl").read_text().splitlines()[-2])
    assert {"loss_bottleneck_compactness", "loss_bottleneck_separateness", "loss_encoder1_memory_compact"} <= set(logged)
    assert not torch.equal(before, trainer.model.attachments["bottleneck"].memory.items)  # MNAD update ran
    maps = memory_maps(trainer.model, np.random.default_rng(0).random((24, 40, 3)).astype(np.float32))
    assert set(maps) == {"encoder1 part", "encoder1 instance", "encoder1 semantic", "bottleneck items"}
    assert all(m.shape[:2] == (24, 40) for m in maps.values())
    torch.testing.assert_close(torch.from_numpy(maps["bottleneck items"]).sum(-1), torch.ones(24, 40))


@pytest.mark.parametrize("global_context", [False, True])
def test_fast_memory_network_exports_and_is_described_by_info(tmp_path, global_context):
    memories = {"encoder2": {"kind": "hierarchical", "dim": 4}, "bottleneck": {"kind": "items", "items": 4}}
    config = load_config(None, ["model.name=fastunet", *[f"model.{k}={json.dumps(v)}" for k, v in SMALL_FAST.items()],
                                f"model.memories={json.dumps(memories)}", f"model.global_context={json.dumps(global_context)}"])
    torch.manual_seed(0)
    model = build_model(config.model.name, **config.model.options).eval()
    with torch.no_grad():
        for attachment in model.attachments.values():  # let the memories contribute to the output
            fuse = attachment.fuse if hasattr(attachment, "fuse") else attachment.project
            fuse.weight.normal_(0, 0.1)
        for name, parameter in model.named_parameters():
            if name.endswith("scale"):  # and the residual blocks (their scales start at 0)
                parameter.fill_(0.5)
    assert export(model, tmp_path / "fast.onnx", "onnx") <= 1e-4
    checkpoint = save_checkpoint(tmp_path / "fast", model, config, step=1)
    result = run_cli("info", str(checkpoint))
    assert result.returncode == 0, result.stderr
    field = "whole image (global pooling)" if global_context else "radius"
    assert "fastunet" in result.stdout and f"receptive field  {field}" in result.stdout and "MACs at 256x256" in result.stdout
