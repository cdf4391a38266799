"""`memrestore bench`: a suite trains every method x seed under one budget, scores real-style test
pairs, reports (JSON, Markdown, curves, grid), reuses finished runs, retrains only what changed, and
refuses a bad suite before any work; `bench speed` measures the suite's models side by side."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from memrestore.api import load_model
from memrestore.bench.suite import Budget, load_suite, run_key
from memrestore.data.paired_dataset import PairedImageDataset
from memrestore.engine.evaluate import per_image_scores
from memrestore.errors import ConfigError
from memrestore.recipes import load_config

from tests.helpers import run_cli

TINY_UNET = ["model.name=unet", "model.width=8", "model.depths=[1]", "model.middle=1"]
TINY_FAST = ["model.name=fastunet", "model.width=8", "model.depths=[1, 1]", "model.middle=1", "model.global_context=true"]


def write_suite(tmp_path, paired_root, **changes):
    suite = {"name": "tiny", "budget": {"steps": 4}, "seeds": [0], "checkpoints": 2,
             "recipe": ["data.train.patch_size=32", "data.train.batch_size=2"],
             "train": [{"root": str(paired_root)}],
             "tests": {"pairs": {"root": str(paired_root), "convention": "y-matlab"}},
             "methods": {"unet": {"set": TINY_UNET}, "fast": {"set": TINY_FAST}}, "baseline": "unet", **changes}
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return path


def bench(path, tmp_path, *extra):
    return run_cli("bench", "quality", str(path), "--out", str(tmp_path / "out"), "--work", str(tmp_path / "work"), *extra)


def test_quality_suite_reports_and_reuses_finished_runs(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root)
    first = bench(path, tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert [r["method"] for r in report["runs"]] == ["unet", "fast"]
    assert all(r["steps"] == 4 and len(r["scores"]["pairs"]) == 3 and len(r["curve"]) >= 1 for r in report["runs"])
    assert len(report["inputs"]["pairs"]) == 3
    markdown = (tmp_path / "out" / "tiny.md").read_text()
    assert markdown.startswith(f"`memrestore bench quality {path}`") and "Paired differences to unet" in markdown
    assert "| fast | pairs |" in markdown and "(n=3)" in markdown
    assert (tmp_path / "out" / "tiny.png").stat().st_size > 0 and (tmp_path / "out" / "tiny_grid.png").stat().st_size > 0

    runs = {p.name: p for p in (tmp_path / "work").iterdir() if p.name.startswith(("unet-", "fast-"))}
    stamps = {name: (p / "model.safetensors").stat().st_mtime_ns for name, p in runs.items()}
    again = bench(path, tmp_path)
    assert again.returncode == 0, again.stderr
    assert {name: (p / "model.safetensors").stat().st_mtime_ns for name, p in runs.items()} == stamps  # nothing retrained

    changed = write_suite(tmp_path, paired_root, methods={"unet": {"set": TINY_UNET}, "fast": {"set": [*TINY_FAST, "model.width=12"]}})
    third = bench(changed, tmp_path)
    assert third.returncode == 0, third.stderr
    folders = sorted(p.name for p in (tmp_path / "work").iterdir() if p.name.startswith(("unet-", "fast-")))
    assert len(folders) == 3 and sum(f.startswith("unet-") for f in folders) == 1  # only the changed method retrained
    suite = load_suite(changed)
    assert f"fast-s0-{run_key(suite, 'fast', 0)}" in folders


def test_an_equal_time_budget_is_calibrated_to_steps_by_the_median_over_seeds(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, budget={"minutes": 0.05}, seeds=[0, 1, 2], methods={"unet": {"set": TINY_UNET}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    runs = json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]
    speeds = runs[0]["calibrations"]
    assert len(speeds) == 3 and all(s > 0 for s in speeds)  # one calibration per seed, each kept with its run
    assert all(r["calibrations"] == speeds and r["calibrated_steps_per_s"] == sorted(speeds)[1] for r in runs)
    assert all(r["steps"] == max(10, int(3 * sorted(speeds)[1])) for r in runs)  # every seed: the same steps
    assert all(0 < r["cpu_share"] <= 1.5 and "cores" in r["machine"] for r in runs)  # what the timing ran on, how alone


def test_a_budget_may_be_calibrated_on_the_first_seeds_only(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, budget={"minutes": 0.05, "calibrated_seeds": 1}, seeds=[0, 1],
                       methods={"unet": {"set": TINY_UNET}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    runs = json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]
    assert [len(r["calibrations"]) for r in runs] == [1, 1] and runs[0]["steps"] == runs[1]["steps"]
    assert not list((tmp_path / "work").glob("unet-s1-*/calibration.json"))  # seed 1 was not calibrated
    suite = load_suite(path)
    assert run_key(suite, "unet", 0) != run_key(dataclasses.replace(suite, budget=Budget(minutes=0.05)), "unet", 0)


def test_an_equal_steps_control_trains_the_steps_of_another_method(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, budget={"minutes": 0.05},
                       methods={"unet": {"set": TINY_UNET}, "fast": {"set": TINY_FAST, "steps_of": "unet", "versus": ["unet"]}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    runs = {r["method"]: r for r in json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]}
    assert runs["fast"]["steps"] == runs["unet"]["steps"] and runs["fast"]["calibrated_steps_per_s"] is None
    markdown = (tmp_path / "out" / "tiny.md").read_text()
    assert "Further paired differences" in markdown and "| fast - unet | pairs |" in markdown


def test_a_method_with_its_own_steps_trains_them_inside_an_equal_time_suite(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, budget={"minutes": 0.05},
                       methods={"unet": {"set": TINY_UNET}, "fast": {"set": TINY_FAST, "steps": 3}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    runs = {r["method"]: r for r in json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]}
    assert runs["fast"]["steps"] == 3 and runs["fast"]["calibrated_steps_per_s"] is None
    assert runs["unet"]["calibrated_steps_per_s"] > 0
    suite = load_suite(path)
    suite.methods["fast"].steps = 5
    assert run_key(suite, "fast", 0) != run_key(load_suite(path), "fast", 0)  # new steps: a new run


def test_a_refitted_preset_file_is_new_training_data(tmp_path, paired_root):
    preset = tmp_path / "mine.yaml"
    synth = {"synth": {"clean": str(paired_root / "target"), "task": "derain", "preset": str(preset)}}
    path = write_suite(tmp_path, paired_root, train=[synth])
    keys = []
    for density in (0.002, 0.004):  # the same file name, refitted
        preset.write_text(yaml.safe_dump({"task": "derain", "ranges": {"density": [density, density]}}))
        keys.append(run_key(load_suite(path), "unet", 0))
    assert keys[0] != keys[1]


def test_a_suite_trains_on_one_region_of_its_pairs_and_scores_on_another(tmp_path, paired_root):
    from memrestore.io import read_image

    path = write_suite(tmp_path, paired_root, seeds=[0], methods={"unet": {"set": TINY_UNET}},
                       train=[{"root": str(paired_root), "crop": [0, 0, 0.5, 1]}],
                       tests={"right": {"root": str(paired_root), "convention": "y-matlab", "crop": [0.5, 0, 1, 1]}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    run = next((tmp_path / "work").glob("unet-s0-*"))
    train_root = tmp_path / "work" / yaml.safe_load((run / "config.yaml").read_text())["data"]["train"]["root"]
    trained = sorted((train_root / "input").iterdir())
    assert len(trained) == 3 and all(read_image(p).pixels.shape == (48, 32, 3) for p in trained)
    left = read_image(paired_root / "input" / "img0.png").pixels[:, :32]
    assert (read_image(train_root / "input" / "0-img0.png").pixels == left).all()  # the left half, unchanged
    scored = json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"][0]["scores"]["right"]
    assert len(scored) == 3  # the three right halves

    for where, crop, message in [("train", [0, 0, 1.5, 1], "is not 0 <= left < right <= 1"),
                                 ("tests", [0, 0, 1], "is not four numbers")]:
        changes = {"train": [{"root": str(paired_root), "crop": crop}]} if where == "train" else \
            {"tests": {"t": {"root": str(paired_root), "crop": crop}}}
        with pytest.raises(ConfigError, match=message):
            load_suite(write_suite(tmp_path, paired_root, **changes))
    synth = {"synth": {"clean": str(paired_root / "target"), "task": "derain"}, "crop": [0, 0, 0.5, 1]}
    with pytest.raises(ConfigError, match="crop applies to real pairs"):
        load_suite(write_suite(tmp_path, paired_root, train=[synth]))


def test_a_method_trains_on_its_own_sources_instead_of_the_suites(tmp_path, paired_root):
    own = {"set": TINY_UNET, "steps_of": "suite data", "data": [{"root": str(paired_root), "include": "img1*", "repeat": 2}]}
    path = write_suite(tmp_path, paired_root, budget={"minutes": 0.05},
                       methods={"suite data": {"set": TINY_UNET}, "own data": own}, baseline="suite data")
    suite = load_suite(path)
    assert run_key(suite, "own data", 0) != run_key(suite, "suite data", 0)  # the same model, other data: another run
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    trained_on = {}
    for run in (tmp_path / "work").glob("*-s0-*"):
        root = yaml.safe_load((run / "config.yaml").read_text())["data"]["train"]["root"]
        trained_on[run.name.split("-s0-")[0]] = sorted(p.name for p in (tmp_path / "work" / root).glob("input/*"))
    assert trained_on == {"suite_data": ["0-img0.png", "0-img1.png", "0-img2.png"],
                          "own_data": ["0-img1.png", "0.1-img1.png"]}
    runs = {r["method"]: r for r in json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]}
    assert runs["own data"]["steps"] == runs["suite data"]["steps"]  # a training-set comparison at equal steps
    mixed = write_suite(tmp_path, paired_root, methods={"unet": {"set": TINY_UNET, "data": [{"root": "x", "synth": {"clean": "y"}}]}})
    with pytest.raises(ConfigError, match=r"methods.unet.data: each train source needs either root or synth"):
        load_suite(mixed)
    untrained = write_suite(tmp_path, paired_root, train=[], methods={"unet": {"set": TINY_UNET, "data": [{"root": "x"}]},
                                                                      "fast": {"set": TINY_FAST}})
    with pytest.raises(ConfigError, match="a quality suite needs tests and train sources"):
        load_suite(untrained)  # "fast" has neither its own data nor the suite's


def test_a_learning_free_method_is_scored_as_built(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, methods={"unet": {"set": TINY_UNET},
                                                       "dcp": {"set": ["model.name=dark_channel_prior"], "train": False}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    runs = {r["method"]: r for r in json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]}
    assert runs["dcp"]["steps"] == 0 and len(runs["dcp"]["scores"]["pairs"]) == 3 and runs["unet"]["steps"] == 4


def test_a_run_with_weight_averaging_is_scored_and_stored_by_its_averaged_weights(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, methods={"unet": {"set": [*TINY_UNET, "train.ema=0.5"]}})
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    (run,) = json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]
    assert run["checkpoint"].endswith("model_ema.safetensors")
    folder = Path(run["checkpoint"]).parent
    pairs = PairedImageDataset.from_folder(paired_root, layout="auto")
    psnr = {name: [s["psnr"] for s in per_image_scores(load_model(folder / f"{name}.safetensors")[0], pairs, "y-matlab")]
            for name in ("model_ema", "model")}
    assert run["scores"]["pairs"] == pytest.approx(psnr["model_ema"], abs=1e-4)
    assert psnr["model_ema"] != pytest.approx(psnr["model"], abs=1e-4)  # the raw weights score otherwise
    logged = [json.loads(line) for line in (folder / "log.jsonl").read_text().splitlines()]
    assert [v for _, v in run["curve"]] == [r["val_ema_psnr"] for r in logged if "val_ema_psnr" in r and "train_seconds" in r]


def test_an_interrupted_run_resumes_instead_of_restarting(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, methods={"unet": {"set": TINY_UNET}})
    assert bench(path, tmp_path).returncode == 0
    (run,) = [p for p in (tmp_path / "work").iterdir() if p.name.startswith("unet-")]
    before = json.loads((run / "bench.json").read_text())
    (run / "bench.json").unlink()  # as if killed after training, before scoring
    assert bench(path, tmp_path).returncode == 0
    assert json.loads((run / "bench.json").read_text())["scores"] == before["scores"]


def test_a_timelapse_suite_trains_on_repeated_scenes_and_scores_held_out_scenes(tmp_path, timelapse_root):
    tiny_mgid = ["model.width=8", "model.depths=[1]", "model.middle=1", "model.bsw_warmup=1",
                 "data.train.patch_size=16", "data.train.frames=2"]
    path = write_suite(tmp_path, timelapse_root, tests={"held out": {"root": str(timelapse_root), "layout": "gtrain",
                                                                      "include": "s2_*", "convention": "y-matlab"}},
                       train=[{"root": str(timelapse_root), "layout": "timelapse", "include": "s[01]", "repeat": 2}],
                       methods={"plain": {"recipe": "mgid/derain_timelapse_cpu", "set": [*tiny_mgid, "model.memory_items=0"]},
                                "mgid": {"recipe": "mgid/derain_timelapse_cpu", "set": [*tiny_mgid, "model.memory_restart=2"]}},
                       baseline="plain")
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "work").glob("train-data-*")
    scenes = sorted(p.name for p in folder.iterdir())
    assert scenes == ["0-s0", "0-s1", "0.1-s0", "0.1-s1"]  # held-out scene s2 never trained on, the others twice
    report = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert [len(r["scores"]["held out"]) for r in report["runs"]] == [4, 4]  # s2's four frames against its clean frame
    validation = sorted(p.name for p in (tmp_path / "work" / "tests" / "held_out" / "input").iterdir())
    assert validation == [f"s2_frame_{i:03d}.png" for i in range(4)]  # the curve saw the held-out frames only
    mixed = write_suite(tmp_path, timelapse_root, train=[{"root": str(timelapse_root), "layout": "timelapse"},
                                                         {"root": str(timelapse_root)}])
    with pytest.raises(ConfigError, match="mix time-lapse scenes and pairs"):
        load_suite(mixed)
    paired_method = write_suite(tmp_path, timelapse_root, train=[{"root": str(timelapse_root), "layout": "timelapse"}])
    with pytest.raises(ConfigError, match="data.train.type is 'paired' but the train sources are time-lapse scenes"):
        load_suite(paired_method)


@pytest.mark.parametrize("changes, message", [
    ({"budget": {"steps": 4, "minutes": 1}}, "budget needs exactly one of minutes or steps"),
    ({"budget": {"minutes": 1, "calibrated_seeds": 2}}, "budget.calibrated_seeds needs minutes and a number from 1 to the 1 seeds"),
    ({"budget": {"steps": 4, "calibrated_seeds": 1}}, "budget.calibrated_seeds needs minutes"),
    ({"baseline": "nafnet"}, "baseline 'nafnet' is not one of the methods"),
    ({"methods": {"unet": {"set": [*TINY_UNET, "model.widht=3"]}}}, "method 'unet': config: model: unknown key 'widht'"),
    ({"tests": {"pairs": {"root": "x", "convention": "psnr"}}}, "convention 'psnr' is not one of"),
    ({"tests": {"pairs": {"convention": "rgb"}}}, "tests.pairs: a test set needs either root or synth"),
    ({"tests": {"pairs": {"synth": {"clean": "x", "task": "deshadow"}, "crop": [0, 0, 0.5, 1]}}},
     "tests.pairs: a synth test set is whole pairs"),
    ({"methods": {"unet": {"set": TINY_UNET, "steps_of": "unet"}}}, "methods.unet: 'unet' is not another method"),
    ({"methods": {"unet": {"set": TINY_UNET, "versus": ["nafnet"]}}}, "methods.unet: 'nafnet' is not another method"),
    ({"methods": {"unet": {"set": TINY_UNET}, "a": {"set": TINY_UNET, "steps_of": "unet"},
                  "b": {"set": TINY_UNET, "steps_of": "a"}}}, "methods.b: steps_of 'a' names a method without a budget"),
    ({"methods": {"unet": {"set": TINY_UNET, "steps": 0}}}, "methods.unet: steps needs a positive count"),
    ({"methods": {"unet": {"set": TINY_UNET}, "a": {"set": TINY_UNET, "steps": 3, "steps_of": "unet"}}},
     "methods.a: steps needs a positive count, on a trained method without steps_of"),
])
def test_a_bad_suite_is_one_line_before_any_work(tmp_path, paired_root, changes, message):
    path = write_suite(tmp_path, paired_root, **changes)
    with pytest.raises(ConfigError, match=message):
        load_suite(path)
    done = bench(path, tmp_path)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and not (tmp_path / "work").exists()


def test_speed_table_side_by_side(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root)
    done = run_cli("bench", "speed", str(path), "--sizes", "0.05", "--rounds", "1", "--out", str(tmp_path / "out"),
                   "--work", str(tmp_path / "work"))
    assert done.returncode == 0, done.stderr
    rows = json.loads((tmp_path / "out" / "tiny_speed.json").read_text())["rows"]
    assert [r["method"] for r in rows] == ["unet", "fast"]
    assert all(r["train_steps_per_s"] > 0 and r["mp_per_s@0.05"] > 0 and r["peak_gib@0.262144"] > 0 for r in rows)
    assert all(r["recipe_steps_per_s"] > 0 for r in rows)  # the whole recipe, through the Trainer on the suite's data
    assert [f.name for f in (tmp_path / "work").glob("train-data-*/input")] == ["input"]  # both methods' one folder
    markdown = (tmp_path / "out" / "tiny_speed.md").read_text()
    assert "(1.00x)" in markdown and "| recipe steps/s (Trainer) | Trainer vs bare step |" in markdown


def test_a_speed_only_suite_times_every_variant_and_is_refused_for_quality(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, train=[], tests={})
    done = run_cli("bench", "speed", str(path), "--sizes", "--rounds", "1", "--variants", "fp32", "bf16", "bf16+channels-last",
                   "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "tiny_speed_bf16_bf16_channels_last.json").read_text())
    assert report["variants"] == ["fp32", "bf16", "bf16+channels-last"]
    assert [r["method"] for r in report["rows"]] == ["unet", "unet, bf16 autocast", "unet, bf16 autocast, channels-last",
                                                    "fast", "fast, bf16 autocast", "fast, bf16 autocast, channels-last"]
    assert all(r["train_steps_per_s"] > 0 and r["mp_per_s@0.262144"] > 0 and r["peak_gib@0.262144"] > 0 for r in report["rows"])
    assert all(r["recipe_steps_per_s"] is None for r in report["rows"])  # no training data: the bare step only
    assert report["command"] == f"memrestore bench speed {path} --sizes --rounds 1 --variants fp32 bf16 bf16+channels-last"
    done = bench(path, tmp_path)
    assert done.returncode == 2 and "needs tests and train sources" in done.stderr and done.stderr.count("\n") == 1


def test_speed_tiled_to_a_memory_budget_runs_each_model_fresh_and_names_a_budget_too_small(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, train=[], tests={})
    done = run_cli("bench", "speed", str(path), "--sizes", "0.05", "--rounds", "1", "--max-memory", "8GB",
                   "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "out" / "tiny_speed_tiled.json").read_text())
    assert report["max_memory"] == 8 * 2**30 and report["command"].endswith("--max-memory 8GB")
    assert all(r["mp_per_s@0.05"] > 0 and 0 < r["peak_gib@0.262144"] < 8 for r in report["rows"])
    assert all(r["tile@0.262144"] is None for r in report["rows"])  # 512 x 512 fits 8 GiB whole
    assert "| tile |" in (tmp_path / "out" / "tiny_speed_tiled.md").read_text()
    small = run_cli("bench", "speed", str(path), "--sizes", "--rounds", "1", "--max-memory", "1MB", "--out", str(tmp_path / "o2"))
    assert small.returncode == 2 and "Traceback" not in small.stderr and not (tmp_path / "o2").exists()
    assert small.stderr.splitlines()[-1].startswith("memrestore: error: unet at 0.262144 MP within 0.000976562 GiB: "
                                                    "--max-memory 0.00 GiB is too small for a 512x512 image")


def test_shipped_suites_load():
    from pathlib import Path

    suites = sorted((Path(__file__).resolve().parents[2] / "benchmarks" / "suites").glob("*.yaml"))
    assert len(suites) >= 4
    for path in suites:
        suite = load_suite(path, "speed")  # every method's config is built and checked
        assert suite.baseline in suite.methods
        if suite.tests:  # a quality suite: a comparison judged over 3 seeds, a default's (one model and its
            # peer), or a probe shorter than the 20 minutes that judge a method: one seed
            one_seed = path.name.startswith("default_") or (suite.budget.minutes or 20) < 20
            assert load_suite(path).tests and len(suite.seeds) == (1 if one_seed else 3), path.name


def test_a_child_of_a_large_process_reports_its_own_peak_memory():
    """Linux carries a parent's ru_maxrss over fork and exec; the peak read must be the child's own."""
    import numpy as np

    from memrestore.bench.speed import fresh_inference

    ballast = np.ones(2**28)  # 2 GiB in this process
    ballast[::4096] = 2.0  # touched, so resident
    child = fresh_inference({"name": "unet", "width": 8, "depths": [1], "middle": 1}, 0.01)["peak_rss_gib"]
    assert 0 < child < 1.5, child
    del ballast


def test_the_machine_behind_a_timing_is_named():
    from memrestore.bench.report import machine

    described = machine()
    assert "cores" in described and described.endswith(f"torch {__import__('torch').__version__}")
    assert any(unit in described for unit in ("AVX-512", "AVX2", "no AVX2"))


def test_cpu_share_tells_an_idle_wait_from_busy_work():
    import time

    import torch

    from memrestore.bench.report import CpuShare

    with CpuShare() as idle:
        time.sleep(0.3)
    with CpuShare() as busy:
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:  # one thread of torch's N kept busy
            pass
    assert idle.value < 0.05
    # one thread spinning reads 1 / N alone; a shared machine (a suite training beside the tests) halves
    # it or more, so the bound only asks for a fifth of one core
    assert busy.value > 0.2 / torch.get_num_threads()


def test_calibration_leaves_out_what_each_fit_call_costs_besides_its_steps(monkeypatch):
    """A stand-in trainer taking 0.01 s a step plus 0.2 s a call (loader start, checkpoint) trains at
    100 steps/s; timing whole calls would read 60 and give an equal-time budget 40 % too few steps."""
    import time
    from types import SimpleNamespace

    from memrestore.bench import quality

    class Trainer:
        def __init__(self, config, **_):
            self.config, self.step, self.train_set = config, 0, SimpleNamespace(preload=lambda: None)

        def fit(self):
            time.sleep(0.2 + 0.01 * (self.config.train.iterations - self.step))
            self.step = self.config.train.iterations

    monkeypatch.setattr(quality, "Trainer", Trainer)
    config = SimpleNamespace(train=SimpleNamespace(iterations=0, checkpoint_every=0, losses=[]), data=SimpleNamespace(val=None),
                             model=SimpleNamespace(spn=SimpleNamespace(enabled=False, start=0.1)))
    assert 80 < quality.steps_per_second(config, warmup=5, steps=30, repeats=3) < 120


def test_an_spn_run_is_calibrated_with_the_share_of_steps_it_idles(monkeypatch):
    """SPN starts at 10 % of the steps: at 10 steps/s without it and 5 with it, a run averages
    1 / (0.1 / 10 + 0.9 / 5) steps/s, not 5 (which would give it 5 % less time than a plain run)."""
    from memrestore.bench import quality

    monkeypatch.setattr(quality, "_measured_rate", lambda config, *_: 5.0 if config.model.spn.enabled else 10.0)
    config = load_config(None, ["model.spn.enabled=true", "model.spn.start=0.1"])
    assert quality.steps_per_second(config) == pytest.approx(1 / (0.1 / 10 + 0.9 / 5))
    config.model.spn.start = 0.0
    assert quality.steps_per_second(config) == 5.0


def test_a_run_with_late_terms_is_calibrated_phase_by_phase(monkeypatch):
    """SPN from 10 % and a second loss from 50 % of the steps: three phases, each timed with the terms
    it has, from its first step (a plain step 0.1 s, SPN +0.1 s, the contrastive term +0.2 s)."""
    from memrestore.bench import quality

    timed = []

    def rate(config, *_):
        assert all(loss.start == 0 for loss in config.train.losses) and config.model.spn.start == 0
        timed.append(([loss.name for loss in config.train.losses], config.model.spn.enabled))
        return 1 / (0.1 + 0.1 * config.model.spn.enabled + 0.2 * (len(config.train.losses) == 2))

    monkeypatch.setattr(quality, "_measured_rate", rate)
    config = load_config(None, ["model.spn.enabled=true", "model.spn.start=0.1",
                                "train.losses=[{name: l1}, {name: contrastive, start: 0.5, every: 4}]"])
    assert quality.steps_per_second(config) == pytest.approx(1 / (0.1 * 0.1 + 0.4 * 0.2 + 0.5 * 0.4))
    assert timed == [(["l1"], False), (["l1"], True), (["l1", "contrastive"], True)]
    assert config.train.losses[1].start == 0.5 and config.model.spn.start == 0.1  # the run's own config unchanged


def test_runs_side_by_side_are_calibrated_alone_with_their_threads(tmp_path, paired_root):
    path = write_suite(tmp_path, paired_root, jobs=2)
    done = bench(path, tmp_path)
    assert done.returncode == 0, done.stderr
    runs = json.loads((tmp_path / "out" / "tiny.json").read_text())["runs"]
    assert [r["method"] for r in runs] == ["unet", "fast"]  # the suite's order, whichever finished first
    suite = load_suite(path)
    assert all(r["steps"] == 4 and r["threads"] == suite.threads() and len(r["scores"]["pairs"]) == 3 for r in runs)
    assert run_key(suite, "unet", 0) != run_key(load_suite(write_suite(tmp_path, paired_root)), "unet", 0)


def test_a_link_made_by_a_run_side_by_side_is_kept(tmp_path, monkeypatch):
    """Two runs started together make the same test folder; the second finding the link made is fine,
    a link to another file is not."""
    from pathlib import Path

    from memrestore.bench.quality import _link

    target, other, link = tmp_path / "a.png", tmp_path / "b.png", tmp_path / "tests" / "a.png"
    target.write_bytes(b"a")
    other.write_bytes(b"b")
    _link(target, link)
    monkeypatch.setattr(Path, "exists", lambda self: False)  # as if the other run linked it just after the check
    _link(target, link)
    with pytest.raises(FileExistsError):
        _link(other, link)


def test_a_link_left_pointing_nowhere_by_a_moved_work_folder_is_made_again(tmp_path):
    from memrestore.bench.quality import _link

    moved, target, link = tmp_path / "old.png", tmp_path / "new.png", tmp_path / "tests" / "a.png"
    moved.write_bytes(b"a")
    _link(moved, link)
    moved.rename(target)  # the folder that held the link's target was moved
    _link(target, link)
    assert link.resolve() == target.resolve() and link.read_bytes() == b"a"
