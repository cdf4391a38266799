"""Recipes: shipped configs found by name (CLI and API), inside the built wheel; checkpoints checked by
their model section only, so a checkpoint of the previous release loads and restores identically."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open
from safetensors.torch import save_file
from skimage import data

import memrestore
from memrestore.checkpoint import read_checkpoint
from memrestore.errors import CheckpointError, ConfigError
from memrestore.recipes import SHIPPED, load_config, shipped_recipes

from tests.helpers import run_cli

FIXTURES = Path(__file__).parent / "fixtures"
REPOSITORY = Path(__file__).resolve().parents[1]


def test_every_shipped_recipe_is_listed_and_valid():
    recipes = shipped_recipes()
    assert {"demo", "fastunet/derain_cpu", "memorynet/derain", "memorynet/derain_cpu", "mgid/derain_timelapse_cpu"} <= set(recipes)
    assert len(recipes) == len(list(SHIPPED.rglob("*.yaml"))) >= 14
    for name, about in recipes.items():
        config = load_config(name)
        assert about and config.train.iterations > 0, name
        assert config.data.train.type in ("paired", "istd", "raindrop", "reside", "gopro", "timelapse")


def test_recipe_by_name_path_or_suffix():
    by_name = load_config("memorynet/derain_cpu", ["train.iterations=7"])
    assert by_name.model.name == "memorynet" and by_name.train.iterations == 7
    assert load_config("memorynet/derain_cpu.yaml") == load_config(SHIPPED / "memorynet" / "derain_cpu.yaml")
    with pytest.raises(ConfigError, match=r"memorynet/derain_gpu: config file not found, and no shipped recipe has that name \(shipped: "):
        load_config("memorynet/derain_gpu")


def test_configs_command_lists_and_prints_recipes():
    listed = run_cli("configs")
    assert listed.returncode == 0 and "memorynet/derain_cpu" in listed.stdout and "mgid/derain_timelapse" in listed.stdout
    printed = run_cli("configs", "demo")
    assert printed.returncode == 0 and "name: demo" in printed.stdout
    missing = run_cli("configs", "nope")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "no shipped recipe" in missing.stderr


def test_train_runs_a_shipped_recipe_by_name(tmp_path, paired_root):
    done = run_cli("train", "demo", "--quiet", "--set", f"data.train.root={paired_root}", "--set", "data.val=null",
                   "--set", "train.iterations=2", "--set", "data.train.patch_size=32", "--set", f"output_dir={tmp_path}")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "demo" / "model.safetensors").is_file()


def test_built_wheel_ships_every_recipe(tmp_path):
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                            "--wheel-dir", str(tmp_path), str(REPOSITORY)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("memrestore-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"memrestore/configs/{name}.yaml" for name in shipped_recipes()}
    assert expected <= names, sorted(expected - names)


def test_checkpoint_of_the_previous_release_restores_identically():
    restorer = memrestore.load(FIXTURES / "unet_previous_release.safetensors", device="cpu")
    reference = np.load(FIXTURES / "unet_previous_release_output.npz")
    top, bottom, left, right = reference["input_crop"]
    restored = restorer(data.astronaut()[top:bottom, left:right])
    assert restored.dtype == np.uint8 and restored.shape == reference["output"].shape
    assert np.array_equal(restored, reference["output"])


def rewrite_config(source: Path, target: Path, change) -> Path:
    """A copy of checkpoint ``source`` whose stored config went through ``change`` (a dict -> None)."""
    with safe_open(str(source), framework="pt") as handle:
        header = dict(handle.metadata())
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    config = json.loads(header["config"])
    change(config)
    header["config"] = json.dumps(config)
    save_file(tensors, str(target), metadata=header)
    return target


def test_checkpoint_loads_when_training_options_were_renamed(tmp_path):
    def rename(config):
        config["train"]["losses"][0]["epsilon_renamed"] = 1e-3  # an option this version does not know
        config["train"]["warmup"] = 5  # a key this version does not know
        config["data"]["train"]["type"] = "a-layout-from-the-future"

    path = rewrite_config(FIXTURES / "unet_previous_release.safetensors", tmp_path / "renamed.safetensors", rename)
    checkpoint = read_checkpoint(path)
    assert checkpoint.unreadable == ["train"]  # an unknown key: the section keeps its defaults
    assert checkpoint.config.data.train.type == "a-layout-from-the-future"  # recorded, not checked for inference
    assert checkpoint.config.eval.convention == "y-matlab"
    restorer = memrestore.load(path, device="cpu")
    assert restorer(np.zeros((8, 8, 3), np.uint8)).shape == (8, 8, 3)
    info = run_cli("info", str(path))
    assert info.returncode == 0 and "config sections this version cannot read (shown at defaults): train" in info.stdout


def test_checkpoint_with_an_invalid_model_section_is_refused(tmp_path):
    def break_model(config):
        config["model"]["widht"] = 8

    path = rewrite_config(FIXTURES / "unet_previous_release.safetensors", tmp_path / "bad.safetensors", break_model)
    with pytest.raises(CheckpointError, match=r"bad\.safetensors: checkpoint config: model: unknown key 'widht'"):
        read_checkpoint(path)
