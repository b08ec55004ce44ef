"""The LitAPI in-process: a batch that holds a bad upload answers the others, and the bad one alone with its 4xx;
answers are the network's softmax, top-k first."""

import io
import json
from pathlib import Path

import pytest
import torch
from PIL import Image
from starlette.datastructures import UploadFile

from litfashion.serve.api import ClassifierAPI
from litfashion.serve.model import ServedModel
from tests.unit.serve.conftest import CLASSES


def form(data: bytes, filename: str) -> dict[str, UploadFile]:
    return {"file": UploadFile(io.BytesIO(data), filename=filename)}


def png(color: tuple[int, int, int], size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def test_a_bad_upload_in_a_batch_is_answered_alone(exported: Path) -> None:
    model = ServedModel.from_export_dir(str(exported))
    api = ClassifierAPI(model, top_k=5, max_pixels=10_000, max_batch_size=4, batch_timeout=0.01)
    api.setup("cpu")
    requests = [form(png((255, 0, 0)), "red.png"), form(b"not an image", "notes.txt"), form(png((0, 0, 250)), "b.png")]
    outputs = api.predict(api.batch([api.decode_request(request) for request in requests]))
    answers = [api.encode_response(output) for output in outputs]
    assert [answer.status_code for answer in answers] == [200, 415, 200]
    assert json.loads(answers[1].body) == {"detail": "notes.txt: not a JPEG, PNG, WebP or GIF image"}

    net = model.load_network()
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1).expand(1, 3, 8, 8)
    expected = net(red).softmax(dim=1)[0]
    top = json.loads(answers[0].body)["predictions"]
    assert [p["class_name"] for p in top] == [CLASSES[i] for i in expected.topk(5).indices.tolist()]
    assert [p["probability"] for p in top] == pytest.approx(expected.topk(5).values.tolist(), abs=1e-6)
    assert json.loads(answers[0].body) != json.loads(answers[2].body)


def test_one_request_alone_and_top_k_capped_at_the_classes(exported: Path) -> None:
    api = ClassifierAPI(ServedModel.from_export_dir(str(exported)), top_k=20, max_pixels=10_000)
    api.setup("cpu")
    answer = api.encode_response(api.predict(api.decode_request(form(png((9, 9, 9), (30, 50)), "any.png"))))
    top = json.loads(answer.body)["predictions"]
    assert sorted(p["class_name"] for p in top) == sorted(CLASSES)
    assert sum(p["probability"] for p in top) == pytest.approx(1, abs=1e-5)
    assert not any(p.requires_grad for p in api.net.parameters()) and not api.net.training
