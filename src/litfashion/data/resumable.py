"""A training ``DataLoader`` that carries its position in the epoch into checkpoints, for exact mid-epoch resume.

Lightning saves the ``state_dict`` of every training loader that has one in each checkpoint and hands it back
through ``load_state_dict`` before the resumed epoch begins. The state is the epoch's shuffling seed and how many
batches the training loop has taken; the resumed loader repeats the epoch's order and skips the taken batches'
indices (nothing is loaded for them). torch's random state (``RNGStateCheckpoint``) is the interrupted run's, so
random per-sample transforms of the remaining batches repeat too.
"""

from collections.abc import Iterator, Sized
from itertools import islice
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler, SequentialSampler


class ShuffledSampler(RandomSampler):
    """A ``RandomSampler`` that records each epoch's seed and can repeat an epoch from it, skipping a prefix once.

    The seed is drawn from torch's global generator as ``RandomSampler`` draws it, at the same moment, so a run
    shuffles exactly as with ``RandomSampler``. Being one, Lightning replaces it with a ``DistributedSampler``
    under DDP, as it does the plain one.
    """

    def __init__(self, data_source: Sized) -> None:
        super().__init__(data_source)
        self.seed: int | None = None
        self.resume_seed: int | None = None
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        skip, self.skip = self.skip, 0
        seed, self.resume_seed = self.resume_seed, None
        if seed is None:
            seed = int(torch.empty((), dtype=torch.int64).random_().item())
        self.seed = seed
        generator = torch.Generator()
        generator.manual_seed(seed)
        yield from islice(torch.randperm(len(self.data_source), generator=generator).tolist(), skip, None)


class InOrderSampler(SequentialSampler):
    """A ``SequentialSampler`` that can skip a prefix once."""

    def __init__(self, data_source: Sized) -> None:
        super().__init__(data_source)
        self.skip = 0

    def __iter__(self) -> Iterator[int]:
        skip, self.skip = self.skip, 0
        return iter(range(skip, len(self.data_source)))


class SkippingSampler(Sampler[int]):
    """Wraps a sampler handed to the loader (Lightning's ``DistributedSampler`` under DDP, deterministic per
    epoch): skips a prefix once."""

    def __init__(self, sampler: Sampler[int]) -> None:
        self.sampler = sampler
        self.skip = 0

    def __len__(self) -> int:
        return len(self.sampler)  # type: ignore[arg-type]

    def set_epoch(self, epoch: int) -> None:
        """Lightning sets the epoch of a ``DistributedSampler`` through the loader's sampler."""
        if callable(set_epoch := getattr(self.sampler, "set_epoch", None)):
            set_epoch(epoch)

    def __iter__(self) -> Iterator[int]:
        skip, self.skip = self.skip, 0
        return islice(iter(self.sampler), skip, None)


SKIPPING = (ShuffledSampler, InOrderSampler, SkippingSampler)


class ResumableLoader(DataLoader):
    """A ``DataLoader`` with ``state_dict``/``load_state_dict``: Lightning's stateful-loader interface.

    Lightning fetches no batch ahead from a loader with a length, so the batches this loader has yielded in the
    epoch are the ones the training loop took. Exact with ``num_workers: 0``; with worker processes the order
    resumes exactly, but random transforms run in the workers, whose generators start afresh.
    """

    def __init__(
        self, dataset: Dataset, *args: Any, sampler: Sampler | None = None, shuffle: bool | None = None, **kwargs: Any
    ) -> None:
        if sampler is None and kwargs.get("batch_sampler") is None:
            sampler = ShuffledSampler(dataset) if shuffle else InOrderSampler(dataset)  # type: ignore[arg-type]
        elif sampler is not None and not isinstance(sampler, SKIPPING):
            sampler = SkippingSampler(sampler)
        super().__init__(dataset, *args, sampler=sampler, **kwargs)
        self._taken = 0
        self._resume_at = 0

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        self._taken, self._resume_at = self._resume_at, 0
        if not self._taken:
            return self._count(super().__iter__())
        # Creating the iterator draws its base seed from torch's generator, which the checkpoint restored to the
        # state the interrupted run had after this epoch's iterator was made: put it back.
        restored = torch.get_rng_state()
        batches = super().__iter__()
        torch.set_rng_state(restored)
        return self._count(batches)

    def _count(self, batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            self._taken += 1
            yield batch

    def state_dict(self) -> dict[str, Any]:
        """The epoch's shuffling seed and the batches the training loop has taken in it."""
        return {"seed": getattr(self.sampler, "seed", None), "taken": self._taken}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume inside the epoch the state was taken in; a state at an epoch's end or start needs nothing (the
        RNG states in the checkpoint repeat the next epoch's shuffle)."""
        taken = int(state_dict.get("taken", 0))
        if taken <= 0 or taken >= len(self):
            return
        if isinstance(self.sampler, ShuffledSampler):
            self.sampler.resume_seed = state_dict.get("seed")
        if isinstance(self.sampler, SKIPPING):
            self.sampler.skip = taken * (self.batch_size or 1)
        self._resume_at = taken
