"""``litfashion serve --ckpt_path CKPT`` (or ``--export_dir DIR``): the trained classifier on LitServe.

``POST /predict`` takes an image upload and answers its top-k classes as JSON, ``GET /health`` says whether the
workers are up, and ``/`` is a page to try the model in a browser. Settings: ``configs/serve/default.yaml``.
Everything (settings, the model, the port) is checked before any worker starts; Ctrl-C or SIGTERM stops it.
"""

import signal
from types import FrameType

from litfashion.serve.model import ServedModel
from litfashion.serve.server import API_PATH, build_server
from litfashion.serve.settings import check_devices, check_port_free, parse_serve_args


def main(argv: list[str]) -> None:
    settings = parse_serve_args(argv)
    if settings.ckpt_path is not None:
        model = ServedModel.from_checkpoint(settings.ckpt_path)
    else:
        model = ServedModel.from_export_dir(str(settings.export_dir))
    check_devices(settings.accelerator, settings.devices)
    check_port_free(settings.host, settings.port)
    server = build_server(model, settings)
    address = f"http://{'[::1]' if settings.host == '::' else settings.host}:{settings.port}"
    print(
        f"Serving {model.path} ({model.class_path}, {len(model.class_names)} classes) at {address}/ : "
        f"POST {API_PATH} with an image in the field 'file', GET /health; Ctrl-C stops",
        flush=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    server.run(
        host=settings.host,
        port=settings.port,
        num_api_servers=settings.num_api_servers,
        log_level=settings.log_level,
        generate_client_file=False,
    )


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """``kill PID`` (SIGTERM) stops the server as Ctrl-C does: LitServe stops its HTTP and inference processes on
    a KeyboardInterrupt only, and would otherwise leave them running without it."""
    raise KeyboardInterrupt
