"""Config validation: defaults, overrides, unknown keys and wrong types are errors naming the key."""

from __future__ import annotations

import pytest
import yaml

from memrestore.config import Config, from_dict
from memrestore.recipes import load_config
from memrestore.errors import ConfigError


def write(tmp_path, data) -> str:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_defaults_and_overrides(tmp_path):
    config = load_config(write(tmp_path, {"name": "x", "train": {"iterations": 5}}), ["train.optimizer.lr=0.01", "model.width=8"])
    assert config.name == "x" and config.train.iterations == 5
    assert config.train.optimizer.lr == 0.01 and config.model.options == {"width": 8}
    assert config.train.losses[0].name == "charbonnier"


def test_round_trip_through_plain_data(tmp_path):
    config = load_config(write(tmp_path, {"model": {"name": "unet", "width": 16, "depths": [1, 1]}}))
    again = from_dict(Config, config.to_dict())
    assert again == config


@pytest.mark.parametrize(
    "data, message",
    [
        ({"trian": {}}, "unknown key 'trian'; did you mean 'train'"),
        ({"train": {"iterations": "many"}}, "train.iterations: expected an integer"),
        ({"train": {"optimizer": {"lr": True}}}, "expected a number"),
        ({"model": {"name": "unet", "widht": 8}}, "model: unknown key 'widht'; did you mean 'width'"),
        ({"model": {"name": "unet", "width": 2.5}}, "model.width: expected an integer"),
        ({"model": {"name": "unett"}}, "unknown model 'unett'; did you mean 'unet'"),
        ({"train": {"losses": [{"name": "charbonier"}]}}, "unknown loss 'charbonier'"),
        ({"train": {"losses": [{"name": "charbonnier", "epsilon": 1}]}}, r"losses\[0\]: unknown key 'epsilon'"),
        ({"eval": {"convention": "ycbcr"}}, "eval.convention 'ycbcr'"),
        ({"data": {"train": {"type": "istd", "splitt": "test"}}}, "data.train: unknown key 'splitt'; did you mean 'split'"),
        ({"data": {"train": {"type": "rain100"}}}, "data.train.type: unknown dataset type 'rain100'"),
        ({"data": {"val": {"type": "gopro", "blur_dir": 3}}}, "data.val.blur_dir: expected a string"),
        ({"data": {"train": {"frames": "four"}}}, "data.train.frames: expected an integer"),
        (["a", "list"], "expected a mapping"),
    ],
)
def test_bad_configs_are_one_line_errors(tmp_path, data, message):
    path = write(tmp_path, data)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: invalid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load_config(None, ["train.iterations"])
