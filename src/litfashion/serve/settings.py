"""``litfashion serve``'s settings: a YAML under ``configs/serve/`` and flags, parsed like every config, and checked
(values, the model, the port) before the server starts, each problem one ``litfashion serve: error:`` line."""

import errno
import socket
from dataclasses import dataclass
from typing import Literal

import torch
from jsonargparse import ActionConfigFile, ArgumentParser

from litfashion.error_report import condense
from litfashion.errors import ConfigError


@dataclass
class ServeConfig:
    """Every field is also a flag (``--port 8080``) that overrides the YAML.

    Args:
        ckpt_path: A checkpoint written by ``litfashion fit``.
        export_dir: Or a folder written by ``litfashion export`` (``model.json``, ``model_weights.pth``).
        host: The interface to listen on; ``0.0.0.0`` or ``::`` opens the server to other machines.
        port: The TCP port.
        accelerator: Where the network runs: ``cpu``, ``cuda``, ``mps`` or ``auto``.
        devices: How many of the accelerator's devices get workers, or ``auto`` (all).
        workers_per_device: Inference worker processes per device, each with its own copy of the network.
        threads_per_worker: The threads each worker's torch runs one batch on (``torch.set_num_threads``). On
            CPU, more workers keep the cores busy better than more threads, which wait on each other when the
            cores are shared (BENCHMARKS.md).
        max_batch_size: Requests a worker runs through the network together (LitServe's dynamic batching);
            1 runs each request alone.
        batch_timeout: Seconds a worker waits for a batch to fill before running what it has.
        timeout: Seconds a request may wait for a worker before it is answered 504.
        num_api_servers: HTTP server processes that take requests and hand them to the workers.
        fast_queue: Hand requests and answers between the processes through ZeroMQ instead of
            multiprocessing queues (LitServe's ``fast_queue``).
        top_k: Classes in each answer, most probable first.
        max_upload_bytes: Largest request body; larger ones are answered 413 before they are read to the end.
        max_pixels: Largest image (width x height) that is decoded; a larger one is answered 413 from its
            header, so a small file that decompresses to a huge image costs nothing.
        log_level: LitServe's and uvicorn's log level (``info`` logs every request).
    """

    ckpt_path: str | None = None
    export_dir: str | None = None
    host: Literal["127.0.0.1", "0.0.0.0", "::"] = "127.0.0.1"
    port: int = 8000
    accelerator: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    devices: int | Literal["auto"] = "auto"
    workers_per_device: int = 1
    threads_per_worker: int = 1
    max_batch_size: int = 16
    batch_timeout: float = 0.005
    timeout: float = 30.0
    num_api_servers: int = 1
    fast_queue: bool = False
    top_k: int = 5
    max_upload_bytes: int = 10_000_000
    max_pixels: int = 50_000_000
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "warning"


def serve_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="litfashion serve",
        description="Serve a trained classifier with LitServe: POST /predict, GET /health, the page at /.",
        exit_on_error=False,
        allow_abbrev=False,
    )
    parser.add_argument("-c", "--config", action=ActionConfigFile, help="a YAML of these settings (configs/serve/)")
    parser.add_class_arguments(ServeConfig, as_group=False)
    return parser


def parse_serve_args(argv: list[str]) -> ServeConfig:
    """The YAML and flags as a checked ``ServeConfig``; any problem is one ``ConfigError``."""
    parser = serve_parser()
    try:
        namespace = parser.parse_args(argv)
    except Exception as err:  # jsonargparse raises ArgumentError, or others for unreadable files
        raise ConfigError(condense(str(err))) from None
    namespace.pop("config", None)
    settings = ServeConfig(**vars(parser.instantiate(namespace)))
    check_settings(settings)
    return settings


def check_settings(settings: ServeConfig) -> None:
    """What the types alone cannot say: one model, counts and ranges."""
    if (settings.ckpt_path is None) == (settings.export_dir is None):
        raise ConfigError(
            "give --ckpt_path CKPT (from `litfashion fit`) or --export_dir DIR (from `litfashion export`), one of them"
        )
    if not 1024 <= settings.port <= 65535:
        raise ConfigError(f"port must be in 1024..65535 (LitServe's range), got {settings.port}")
    counts = ("workers_per_device", "threads_per_worker", "max_batch_size", "num_api_servers", "top_k")
    for name in (*counts, "max_upload_bytes", "max_pixels"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be >= 1, got {getattr(settings, name)}")
    if isinstance(settings.devices, int) and settings.devices < 1:
        raise ConfigError(f"devices must be >= 1 or auto, got {settings.devices}")
    if settings.timeout <= 0:
        raise ConfigError(f"timeout must be > 0 seconds, got {settings.timeout}")
    if not 0 <= settings.batch_timeout < settings.timeout:
        raise ConfigError(
            f"batch_timeout must be >= 0 and below timeout ({settings.timeout}), got {settings.batch_timeout}"
        )


def check_port_free(host: str, port: int) -> None:
    """Fail before any worker starts when another process listens on ``host:port``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                in_use = f"port {port} on {host} is in use by another process: pick another with --port"
                raise ConfigError(in_use) from None
            raise ConfigError(f"cannot listen on {host}:{port}: {err.strerror}") from None


def check_devices(accelerator: str, devices: int | str) -> None:
    """Fail before any worker starts when the accelerator asked for is not there (LitServe's worker would fail to
    start and the server wait for it), or has fewer devices than asked for."""
    available = {
        "cuda": torch.cuda.device_count(),
        "mps": int(torch.backends.mps.is_available()),
    }
    if accelerator not in available:
        return
    if available[accelerator] == 0:
        raise ConfigError(f"accelerator {accelerator}: no {accelerator} device on this machine (use cpu or auto)")
    if isinstance(devices, int) and devices > available[accelerator]:
        raise ConfigError(f"devices {devices}: this machine has {available[accelerator]} {accelerator} device(s)")
