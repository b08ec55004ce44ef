"""``litfashion serve`` under load: requests/s, latency percentiles and errors, with LitServe's batching on and
off, beside the network's raw batched forward (the ceiling) and a plain FastAPI endpoint (the baseline).

    python -m benchmarks.serve_load --requests 2000 --concurrency 1 8 32 --out benchmarks/results/serve_load.json

Every server runs on 127.0.0.1 as its own process group, is sent ``--requests`` uploads at each concurrency (after
``--warmup`` unmeasured ones), and is stopped: the script ends by itself. The model is the tutorial's MLP
(784-512-512-10) with untrained weights unless ``--ckpt_path`` names one (speed does not depend on the weights);
the uploads are real FashionMNIST test images as PNG files (``litfashion export-images``). The clients are
threads of this process, one keep-alive connection each, on the same cores as the server.
"""

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"
# Server variants: name -> the command line after `python -m`, with {ckpt} and {port} filled in.
VARIANTS = {
    "litserve, batching on": ["litfashion", "serve", "--config", str(CONFIGS / "serve/default.yaml")],
    "litserve, batching off": [
        "litfashion", "serve", "--config", str(CONFIGS / "serve/default.yaml"),
        "--config", str(CONFIGS / "serve/no_batching.yaml"),
    ],
    "litserve, batching on, fast_queue": [
        "litfashion", "serve", "--config", str(CONFIGS / "serve/default.yaml"), "--fast_queue", "true",
    ],
    "plain FastAPI": ["benchmarks.serve_load", "--baseline-server"],
}  # fmt: skip


def baseline_app(ckpt: str) -> Any:
    """What a user would write without LitServe: one FastAPI endpoint, each request decoded and run alone (FastAPI
    runs a plain ``def`` endpoint in its thread pool), with litfashion's own preprocessing."""
    from fastapi import FastAPI, UploadFile

    from litfashion.serve.model import ServedModel

    model = ServedModel.from_checkpoint(ckpt)
    net = model.load_network()
    app = FastAPI()

    @app.post("/predict")
    def predict(file: UploadFile) -> dict[str, Any]:
        image = model.preprocessing.decode(file.file.read(), file.filename or "file", 50_000_000)
        with torch.inference_mode():
            probabilities = net(model.preprocessing.scale(image[None])).softmax(dim=1)[0]
        values, indices = probabilities.topk(5)
        return {
            "predictions": [
                {"class_index": i, "class_name": model.class_names[i], "probability": p}
                for p, i in zip(values.tolist(), indices.tolist(), strict=True)
            ]
        }

    @app.get("/health")
    def health() -> str:
        return "ok"

    return app


def tutorial_checkpoint(folder: Path) -> str:
    """The tutorial's MLP as ``litfashion fit`` saves it, without training (speed does not depend on weights)."""
    from litfashion.models import MLP, ImageClassifier

    model = ImageClassifier(net=MLP, input_shape=[1, 28, 28], num_classes=10, class_names=[str(i) for i in range(10)])
    hparams = {**dict(model.hparams), "net": {"class_path": "litfashion.models.MLP", "init_args": {}}}
    path = folder / "tutorial.ckpt"
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": hparams}, path)
    return str(path)


def test_pngs(folder: Path, count: int) -> list[tuple[str, bytes]]:
    """``count`` real FashionMNIST test images as PNG files, written by ``litfashion export-images``."""
    from litfashion.commands.export_images import main as export_images

    out = folder / "pngs"
    export_images([str(out), "--subset", str(count), "--data-dir", str(folder / "data")])
    return [(path.name, path.read_bytes()) for path in sorted((out / "test").glob("*.png"))]


def multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(variant: str, ckpt: str, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", *VARIANTS[variant], "--ckpt_path", ckpt, "--port", str(port)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def wait_healthy(process: subprocess.Popen, port: int, within_s: float = 180) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited {process.returncode}: {process.stderr.read().decode()[-2000:]}")
        with suppress(OSError):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"no answer from /health on port {port} within {within_s} s")


def stop_server(process: subprocess.Popen) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def load(port: int, bodies: list[tuple[bytes, str]], requests: int, concurrency: int) -> dict[str, Any]:
    """``requests`` POSTs from ``concurrency`` threads, each over its own keep-alive connection."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for i in counter:
            body, content_type = bodies[i % len(bodies)]
            begin = time.perf_counter()
            try:
                connection.request("POST", "/predict", body, {"Content-Type": content_type})
                response = connection.getresponse()
                response.read()
                problem = None if response.status == 200 else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as err:
                problem = type(err).__name__
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            took = time.perf_counter() - begin
            with lock:
                (errors.append(problem) if problem else latencies.append(took))
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - begin
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    return {
        "concurrency": concurrency,
        "requests": requests,
        "requests_per_s": len(latencies) / elapsed,
        "p50_ms": 1000 * quantiles[49],
        "p95_ms": 1000 * quantiles[94],
        "p99_ms": 1000 * quantiles[98],
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def ceiling(ckpt: str, pngs: list[tuple[str, bytes]], batch_sizes: list[int], seconds: float) -> list[dict[str, Any]]:
    """The network's forward alone on batches of preprocessed images, in this process: images/s per batch size;
    and the preprocessing of one upload alone (decode, resize, scale)."""
    from litfashion.serve.model import ServedModel

    model = ServedModel.from_checkpoint(ckpt)
    net = model.load_network()
    torch.set_num_threads(1)  # as in each litfashion serve worker (threads_per_worker)
    images = torch.stack([model.preprocessing.decode(data, name, 50_000_000) for name, data in pngs])
    rows = []
    for size in batch_sizes:
        batch = model.preprocessing.scale(images[torch.arange(size) % len(images)])
        done, begin = 0, time.perf_counter()
        with torch.inference_mode():
            while time.perf_counter() - begin < seconds:
                net(batch).softmax(dim=1)
                done += size
        rows.append({"batch_size": size, "images_per_s": done / (time.perf_counter() - begin)})
    done, begin = 0, time.perf_counter()
    while time.perf_counter() - begin < seconds:
        name, data = pngs[done % len(pngs)]
        model.preprocessing.scale(model.preprocessing.decode(data, name, 50_000_000)[None])
        done += 1
    rows.append({"preprocessing_per_s": done / (time.perf_counter() - begin)})
    return rows


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "| Server | Concurrency | Requests/s | p50 ms | p95 ms | p99 ms | Errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for variant, rows in results["servers"].items():
        for row in rows:
            lines.append(
                f"| {variant} | {row['concurrency']} | {row['requests_per_s']:.0f} | {row['p50_ms']:.1f} | "
                f"{row['p95_ms']:.1f} | {row['p99_ms']:.1f} | {row['errors']} |"
            )
    for row in results["ceiling"]:
        if "batch_size" in row:
            lines.append(f"| forward alone, batch {row['batch_size']} | | {row['images_per_s']:.0f} images/s | | | | |")
        else:
            lines.append(f"| preprocessing alone, per upload | | {row['preprocessing_per_s']:.0f} images/s | | | | |")
    return "\n".join(lines)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per server and concurrency")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests first, per server")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--ckpt_path", default=None, help="a litfashion checkpoint; default: the tutorial's MLP")
    parser.add_argument("--images", type=int, default=64, help="distinct test PNGs sent in turn")
    parser.add_argument("--ceiling-seconds", type=float, default=2.0, help="time per batch size of the ceiling")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    parser.add_argument("--baseline-server", action="store_true", help="(internal) run the plain FastAPI server")
    parser.add_argument("--port", type=int, default=None, help="(internal) the baseline server's port")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.baseline_server:
        import uvicorn

        uvicorn.run(baseline_app(args.ckpt_path), host="127.0.0.1", port=args.port, log_level="warning")
        return {}
    with tempfile.TemporaryDirectory(prefix="serve-load-") as folder:
        ckpt = args.ckpt_path or tutorial_checkpoint(Path(folder))
        pngs = test_pngs(Path(folder), args.images)
        bodies = [multipart(name, data) for name, data in pngs]
        results: dict[str, Any] = {
            "machine": f"{os.cpu_count()} CPUs",
            "requests": args.requests,
            "ceiling": ceiling(ckpt, pngs, sorted({1, *args.concurrency}), args.ceiling_seconds),
            "servers": {},
        }
        for variant in args.variants:
            port = free_port()
            process = start_server(variant, ckpt, port)
            try:
                wait_healthy(process, port)
                load(port, bodies, args.warmup, max(args.concurrency))
                rows = [load(port, bodies, args.requests, c) for c in args.concurrency]
            finally:
                stop_server(process)
            results["servers"][variant] = rows
            print(f"{variant}: done", file=sys.stderr, flush=True)
    table = markdown(results)
    print(table)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({**results, "table": table}, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
