"""The LitAPI: an uploaded image in, its top-k classes with probabilities out.

LitServe batches requests (``max_batch_size``, ``batch_timeout``) after ``decode_request``, and fails every
request of a batch when one of its steps raises. So a bad upload does not raise: ``decode_request`` returns the
``UploadRejected``, it passes through ``predict`` beside the batch's images, and ``encode_response`` answers it
alone with its 4xx.
"""

from typing import Any

import litserve as ls
import torch
from fastapi.responses import JSONResponse, Response
from torch import Tensor

from litfashion.serve.model import ServedModel
from litfashion.serve.preprocessing import UploadRejected

FIELD = "file"


class ClassifierAPI(ls.LitAPI):
    """Serves ``model``'s network on the device LitServe gives each worker."""

    def __init__(self, model: ServedModel, top_k: int, max_pixels: int, threads: int = 1, **litapi_args: Any) -> None:
        super().__init__(**litapi_args)
        self.model = model
        self.threads = threads
        self.top_k = min(top_k, len(model.class_names))
        self.max_pixels = max_pixels

    def setup(self, device: str) -> None:
        torch.set_num_threads(self.threads)
        self.torch_device = torch.device(device)
        self.net = self.model.load_network().to(self.torch_device)
        self.net.requires_grad_(False)

    def decode_request(self, request) -> Tensor | UploadRejected:
        """The form's ``file`` as a ``uint8`` image (``upload_checks`` made sure there is one). ``request`` has no
        annotation: LitServe would take it for the endpoint's request type, and then not parse the form."""
        upload = request[FIELD]
        name = upload.filename or FIELD
        try:
            return self.model.preprocessing.decode(upload.file.read(), name, self.max_pixels)
        except UploadRejected as rejected:
            return rejected

    def batch(self, inputs: list[Tensor | UploadRejected]) -> list[Tensor | UploadRejected]:
        return list(inputs)

    def predict(self, x: Any) -> Any:
        """Probabilities for each image (one batch of them, or one alone); rejections pass through as they are."""
        if not isinstance(x, list):
            return self.classify([x])[0]
        return self.classify(x)

    def classify(self, inputs: list[Tensor | UploadRejected]) -> list[Tensor | UploadRejected]:
        images = [item for item in inputs if isinstance(item, Tensor)]
        if not images:
            return inputs
        batch = self.model.preprocessing.scale(torch.stack(images).to(self.torch_device))
        with torch.inference_mode():
            probabilities = iter(self.net(batch).softmax(dim=1).cpu())
        return [next(probabilities) if isinstance(item, Tensor) else item for item in inputs]

    def encode_response(self, output: Tensor | UploadRejected) -> Response:
        if isinstance(output, UploadRejected):
            return JSONResponse({"detail": str(output)}, status_code=output.status)
        probabilities, indices = output.topk(self.top_k)
        names = self.model.class_names
        return JSONResponse(
            {
                "predictions": [
                    {"class_index": i, "class_name": names[i], "probability": p}
                    for p, i in zip(probabilities.tolist(), indices.tolist(), strict=True)
                ]
            }
        )
