"""Distributed data parallel under ``torchrun`` and a resumable, rank-aware sampler.

``torchrun --nproc_per_node N -m memrestore.cli.main train CONFIG`` sets RANK / LOCAL_RANK /
WORLD_SIZE; the process group uses NCCL when CUDA is present and gloo otherwise. Only rank 0 logs,
validates and writes files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterator

import torch
import torch.distributed as dist
from torch.utils.data import Sampler


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed() -> DistContext:
    """Join the torchrun process group if launched by torchrun, else a single-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    context = DistContext(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), world)
    if not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(context.local_rank)
        dist.init_process_group(backend)
    return context


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


class ResumableSampler(Sampler[int]):
    """Endless per-epoch random permutations derived from ``(seed, epoch)``, split across ranks.

    It yields ``epoch * length + index``: datasets map that to ``index % length`` and use the whole
    number to seed their random crops, so every epoch sees fresh patches.

    The position in the data stream is a pure function of the number of batches already consumed, so
    a resumed run sees exactly the batches an uninterrupted run would have seen.
    """

    def __init__(self, length: int, batch_size: int, seed: int, start_batch: int = 0,
                 rank: int = 0, world_size: int = 1) -> None:
        self.length, self.batch_size, self.seed = length, batch_size, seed
        self.rank, self.world_size = rank, world_size
        self.per_rank = length // world_size
        self.batches_per_epoch = self.per_rank // batch_size
        if self.batches_per_epoch == 0:
            raise ValueError(f"dataset of {length} samples is too small for batch size {batch_size} x {world_size} ranks")
        self.start_batch = start_batch

    def __iter__(self) -> Iterator[int]:
        batch = self.start_batch
        while True:
            epoch, offset = divmod(batch, self.batches_per_epoch)
            order = torch.randperm(self.length, generator=torch.Generator().manual_seed(self.seed * 100003 + epoch))
            mine = order[self.rank : self.per_rank * self.world_size : self.world_size]
            for index in mine[offset * self.batch_size : self.batches_per_epoch * self.batch_size].tolist():
                yield epoch * self.length + index
            batch = (epoch + 1) * self.batches_per_epoch
