"""Training curves from a run's ``log.jsonl`` (``memrestore plot RUN_DIR``)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import MemrestoreError
from ..io.atomic import atomic_path


def read_log(run_dir: Path) -> list[dict]:
    path = run_dir / "log.jsonl"
    if not path.is_file():
        raise MemrestoreError(f"{run_dir}: no log.jsonl (not a training run folder?)")
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise MemrestoreError(f"{path}:{number}: not valid JSON ({exc.msg})") from exc
    return records


def plot_run(run_dir: Path, output: Path | None = None) -> Path:
    """Write a PNG with loss terms (log scale), learning rate and validation PSNR/SSIM."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_log(run_dir)
    train = [r for r in records if "loss" in r]
    val = [r for r in records if "val_psnr" in r]
    if not train:
        raise MemrestoreError(f"{run_dir / 'log.jsonl'}: no training records to plot")
    figure, axes = plt.subplots(1, 3, figsize=(15, 4))
    steps = [r["step"] for r in train]
    for key in sorted({k for r in train for k in r if k.startswith("loss")}):
        axes[0].plot(steps, [r.get(key, float("nan")) for r in train], label=key)
    axes[0].set_yscale("log")
    axes[0].set_title("training loss")
    axes[1].plot(steps, [r["lr"] for r in train])
    axes[1].set_title("learning rate")
    if val:
        convention = val[-1].get("convention", "")
        vsteps = [r["step"] for r in val]
        axes[2].plot(vsteps, [r["val_psnr"] for r in val], "o-", label="PSNR")
        if "val_ema_psnr" in val[0]:
            axes[2].plot(vsteps, [r["val_ema_psnr"] for r in val], "s--", label="PSNR (EMA)")
        axes[2].set_title(f"validation PSNR (dB, {convention})")
        ssim_axis = axes[2].twinx()
        ssim_axis.plot(vsteps, [r["val_ssim"] for r in val], "g^:", label="SSIM")
        ssim_axis.set_ylabel("SSIM")
    else:
        axes[2].set_title("no validation set")
    for axis in axes:
        axis.set_xlabel("step")
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="best", fontsize=8)
    figure.suptitle(str(run_dir))
    figure.tight_layout()
    output = output or run_dir / "curves.png"
    with atomic_path(output) as tmp:
        figure.savefig(tmp, dpi=100, format="png")
    plt.close(figure)
    return output
