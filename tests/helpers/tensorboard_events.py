"""Reading a run back with TensorBoard's own reader, as the TensorBoard UI would."""

from pathlib import Path

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read_run(run_dir: Path) -> EventAccumulator:
    """All events of a version directory, none sampled away."""
    events = EventAccumulator(str(run_dir), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    return events


def scalars(run_dir: Path) -> dict[str, list[float]]:
    """Every logged scalar, by tag, in logging order."""
    events = read_run(run_dir)
    return {tag: [e.value for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def scalars_by_step(run_dir: Path) -> dict[str, dict[int, float]]:
    """Every logged scalar, by tag and step, over all event files of a version directory."""
    events = read_run(run_dir)
    return {tag: {e.step: e.value for e in events.Scalars(tag)} for tag in events.Tags()["scalars"]}
