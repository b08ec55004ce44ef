"""The LitServer for a ``ServedModel`` and its settings: the LitAPI with its batching, the workers, the upload
checks in front of ``/predict``, and the page at ``/``."""

import litserve as ls

from litfashion.serve.api import FIELD, ClassifierAPI
from litfashion.serve.model import ServedModel
from litfashion.serve.page import add_page
from litfashion.serve.settings import ServeConfig
from litfashion.serve.upload_checks import UploadChecks

API_PATH = "/predict"


def build_server(model: ServedModel, settings: ServeConfig) -> ls.LitServer:
    api = ClassifierAPI(
        model,
        top_k=settings.top_k,
        threads=settings.threads_per_worker,
        max_pixels=settings.max_pixels,
        max_batch_size=settings.max_batch_size,
        batch_timeout=settings.batch_timeout,
        api_path=API_PATH,
    )
    checks = {"path": API_PATH, "field": FIELD, "max_bytes": settings.max_upload_bytes}
    server = ls.LitServer(
        api,
        accelerator=settings.accelerator,
        devices=settings.devices,
        workers_per_device=settings.workers_per_device,
        timeout=settings.timeout,
        fast_queue=settings.fast_queue,
        middlewares=[(UploadChecks, checks)],
        model_metadata={"source": model.path, "network": model.class_path, "classes": model.class_names},
    )
    add_page(server.app)
    return server
