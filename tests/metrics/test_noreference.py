"""No-reference scoring (BRISQUE through the brisque package): it ranks a photo above its noisy and
blurred copies, `memrestore eval` scores a folder without references or beside PSNR, and mistakes are
one-line errors."""

from __future__ import annotations

import builtins
import csv

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from skimage import data

from memrestore.errors import MemrestoreError
from memrestore.io import write_image
from memrestore.metrics import noreference
from memrestore.metrics.folders import evaluate_folders

from tests.helpers import run_cli


@pytest.fixture(scope="module")
def photos():
    """A real photo (scikit-image's astronaut, 192x192 crop) and its noisy and blurred copies."""
    clean = data.astronaut()[40:232, 140:332].astype(np.float64) / 255
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 0.08, clean.shape), 0, 1)
    blurred = gaussian_filter(clean, sigma=(2.5, 2.5, 0))
    return {"clean": clean, "noisy": noisy, "blurred": blurred}


def test_brisque_rates_the_photo_above_its_noisy_and_blurred_copies(photos):
    scores = {name: noreference.brisque(image) for name, image in photos.items()}
    assert scores["clean"] < scores["noisy"] - 10 and scores["clean"] < scores["blurred"] - 10, scores
    assert noreference.brisque(photos["clean"]) == pytest.approx(scores["clean"], abs=1e-6)  # reproducible (last bits vary)


def test_eval_scores_a_folder_without_references_and_beside_psnr(tmp_path, photos):
    for name, image in photos.items():
        write_image(tmp_path / "restored" / f"{name}.png", image)
        write_image(tmp_path / "clean" / f"{name}.png", photos["clean"])
    alone = run_cli("eval", "--pred", str(tmp_path / "restored"), "--no-reference", "brisque")
    assert alone.returncode == 0, alone.stderr
    assert "BRISQUE (no reference, lower is better)" in alone.stdout and "PSNR" not in alone.stdout
    rows = list(csv.DictReader((tmp_path / "restored" / "metrics_brisque.csv").open()))
    assert [r["name"] for r in rows] == ["blurred", "clean", "noisy", "mean"] and rows[0]["convention"] == "none"
    by_name = {r["name"]: float(r["brisque"]) for r in rows}
    assert by_name["clean"] == pytest.approx(noreference.brisque(np.round(photos["clean"] * 255) / 255), abs=1e-6)

    both = evaluate_folders(tmp_path / "restored", tmp_path / "clean", "rgb", no_reference="brisque")
    assert [sorted(r) for r in both][0] == ["brisque", "name", "psnr", "ssim"]
    by_name.pop("mean")
    assert {r["name"]: r["brisque"] for r in both} == pytest.approx(by_name, abs=1e-6)


def test_no_reference_mistakes_are_one_line_errors(tmp_path, monkeypatch):
    nothing = run_cli("eval", "--pred", str(tmp_path))
    assert nothing.returncode == 2 and "needs --target (references) or --no-reference" in nothing.stderr
    assert nothing.stderr.count("\n") == 1
    empty = run_cli("eval", "--pred", str(tmp_path), "--no-reference", "brisque")
    assert empty.returncode == 2 and f"{tmp_path}: no images to score" in empty.stderr
    write_image(tmp_path / "tiny.png", np.zeros((8, 8, 3)))
    with pytest.raises(MemrestoreError, match=r"tiny.png: 8x8 is too small for brisque"):
        evaluate_folders(tmp_path, None, no_reference="brisque")
    with pytest.raises(MemrestoreError, match="unknown no-reference measure 'niqe'"):
        evaluate_folders(tmp_path, None, no_reference="niqe")

    real_import = builtins.__import__

    def without_brisque(name, *args, **kwargs):
        if name == "brisque":
            raise ImportError("No module named 'brisque'")
        return real_import(name, *args, **kwargs)

    noreference._brisque_model.cache_clear()
    monkeypatch.setattr(builtins, "__import__", without_brisque)
    with pytest.raises(MemrestoreError, match=r"pip install 'memrestore\[noref\]'"):
        noreference.brisque(np.zeros((32, 32, 3)))
    monkeypatch.undo()
    noreference._brisque_model.cache_clear()
