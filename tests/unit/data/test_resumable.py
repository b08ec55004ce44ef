"""The training loader's position in the epoch: what Lightning saves in a checkpoint and hands back on resume."""

import torch
from torch.utils.data import DataLoader

from litfashion.data.resumable import ResumableLoader

DATA = list(range(20))


def batches(loader: DataLoader, count: int | None = None) -> list[list[int]]:
    iterator = iter(loader)
    return [next(iterator).tolist() for _ in range(count if count is not None else len(loader))]


def test_shuffles_exactly_as_a_plain_random_sampler() -> None:
    """Same draws from torch's generator: the tutorial's shuffled runs see the same order as before."""
    torch.manual_seed(3)
    plain = [batches(DataLoader(DATA, batch_size=4, shuffle=True)) for _ in range(2)]
    torch.manual_seed(3)
    resumable = [batches(ResumableLoader(DATA, batch_size=4, shuffle=True)) for _ in range(2)]
    assert resumable == plain and plain[0] != plain[1]
    assert torch.get_rng_state().equal(_state_after_plain(3))


def _state_after_plain(seed: int) -> torch.Tensor:
    torch.manual_seed(seed)
    for _ in range(2):
        batches(DataLoader(DATA, batch_size=4, shuffle=True))
    return torch.get_rng_state()


def test_a_loader_restored_mid_epoch_yields_the_rest_of_that_epoch_then_the_next() -> None:
    torch.manual_seed(0)
    original = ResumableLoader(DATA, batch_size=4, shuffle=True)
    epoch = iter(original)
    taken = [next(epoch).tolist() for _ in range(2)]
    state = original.state_dict()
    rng = torch.get_rng_state()
    rest = [batch.tolist() for batch in epoch]  # the interrupted epoch's last three batches
    following = batches(original)
    assert state["taken"] == 2 and state["seed"] is not None

    torch.set_rng_state(rng)  # RNGStateCheckpoint restores torch's generator
    resumed = ResumableLoader(DATA, batch_size=4, shuffle=True)
    resumed.load_state_dict(state)
    assert batches(resumed, 3) == rest
    assert resumed.state_dict()["taken"] == 5
    assert batches(resumed) == following  # and the next epoch shuffles as the original's did
    assert sorted(index for batch in taken + rest for index in batch) == DATA


def test_in_order_loader_skips_the_taken_batches() -> None:
    loader = ResumableLoader(DATA, batch_size=6)
    loader.load_state_dict({"seed": None, "taken": 2})
    assert batches(loader, 2) == [[12, 13, 14, 15, 16, 17], [18, 19]]


def test_a_state_at_an_epochs_end_or_start_restarts_the_epoch() -> None:
    for taken in (0, 5):
        loader = ResumableLoader(DATA, batch_size=4)
        loader.load_state_dict({"seed": 123, "taken": taken})
        assert batches(loader)[0] == [0, 1, 2, 3]
