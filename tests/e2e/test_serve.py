"""Real ``litfashion serve`` processes: a FashionMNIST MLP (grayscale, standardized) from its checkpoint, and a
CNN (BatchNorm: it must run in eval mode) trained on RGB PNGs listed in CSVs (resized) from its ``litfashion
export`` folder. Each answers ``litfashion predict``'s classes for the same images; every bad request gets a 4xx
with a one-line JSON error while the server stays up; the page at ``/`` shows the class in a real browser
(Debian's chromium, headless); SIGTERM stops every process of a server.

The two servers start while the next model trains: most of a server's start is imports, in two processes each."""

import csv
import json
import os
import shutil
import signal
import struct
import tempfile
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from litfashion.cli import main
from tests.helpers.commands import tutorial_on_cpu
from tests.helpers.in_process import SOURCE_ENV
from tests.helpers.paths import CONFIGS
from tests.helpers.png_data import write_png_dataset
from tests.helpers.serve_server import Server, multipart, start, stopped_at_exit, wait_until_healthy

pytestmark = pytest.mark.slow

MAX_UPLOAD_BYTES = 50_000  # small: an over-size body fits in the socket buffers while the 413 is sent
STARTUP_S = 180
NORMALIZE = ("--data.init_args.normalize", "true")
TB_OFF = ("--config", str(CONFIGS / "tensorboard_off.yaml"))
SERVE_CONFIG = ("--config", str(CONFIGS / "serve" / "default.yaml"))
CNN = '{"class_path": "litfashion.models.CNN", "init_args": {"channels": [4, 8]}}'


@dataclass
class Served:
    server: Server
    images: Path
    predicted: dict[str, dict[str, str]]  # litfashion predict's rows by image file name

    def image(self, name: str) -> bytes:
        return (self.images / name).read_bytes()


def fashion_mnist_fit(*extra: str) -> Path:
    """One epoch on the tiny FashionMNIST; the run's last.ckpt."""
    main(tutorial_on_cpu("fit", *TB_OFF, "--trainer.max_epochs", "1", *extra))
    versions = sorted(Path("lightning_logs").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))
    return (versions[-1] / "checkpoints" / "last.ckpt").resolve()


def fashion_mnist_predicted(ckpt: Path, output: str, *extra: str) -> dict[str, dict[str, str]]:
    """``litfashion predict`` on the test set, keyed by the PNG ``export-images`` wrote for each sample."""
    main(tutorial_on_cpu("predict", *TB_OFF, "--ckpt_path", str(ckpt), "--predictions.output", output, *extra))
    with open(output) as f:
        return {f"{int(row['sample']):06d}.png": row for row in csv.DictReader(f)}


def csv_args(subcommand: str, *extra: str) -> list[str]:
    return [
        subcommand,
        "--config", str(CONFIGS / "csv_images.yaml"),
        "--config", str(CONFIGS / "trainer" / "cpu.yaml"),
        *TB_OFF,
        "--trainer.enable_progress_bar", "false",
        "--trainer.max_epochs", "2",
        "--trainer.logger.init_args.save_dir", "csv_runs",
        "--data.init_args.train_csv", "rgb/train.csv",
        "--data.init_args.val_csv", "rgb/test.csv",
        "--data.init_args.test_csv", "null",
        "--data.init_args.class_names", "null",
        "--data.init_args.color_mode", "rgb",
        "--data.init_args.image_size", "[12, 20]",
        "--data.init_args.batch_size", "8",
        "--model.init_args.net", CNN,
        "--model.init_args.optimizer.init_args.lr", "0.01",
        *extra,
    ]  # fmt: skip


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, tiny_source: Path) -> Iterator[dict[str, Served]]:
    folder = tmp_path_factory.mktemp("serve")
    limits = ("--max_upload_bytes", str(MAX_UPLOAD_BYTES))
    with pytest.MonkeyPatch.context() as patch, stopped_at_exit() as started:
        patch.chdir(folder)
        patch.setenv(SOURCE_ENV, str(tiny_source))
        mlp = fashion_mnist_fit("--model.init_args.net.init_args.hidden_sizes", "[32]", *NORMALIZE)
        started.append(start(*SERVE_CONFIG, "--ckpt_path", str(mlp), *limits, cwd=folder))
        write_png_dataset(folder / "rgb", n=24, size=(16, 24), channels=3)
        main(csv_args("fit"))
        rgb = "csv_runs/lightning_logs/version_0/checkpoints/last.ckpt"
        main(["export", "--ckpt_path", rgb, "--out", "rgb_export"])
        started.append(start(*SERVE_CONFIG, "--export_dir", str(folder / "rgb_export"), cwd=folder))

        # --subset as large as the tiny test set: all of it, in order, and only as much of the training set.
        main(["export-images", "pngs", "--subset", "128", "--source-dir", str(tiny_source), "--no-download"])
        to_predict = ("--data.init_args.predict_dir", "rgb/images", "--predictions.output", "rgb.csv")
        main(csv_args("predict", "--ckpt_path", rgb, *to_predict))
        with open("rgb.csv") as f:
            rgb_predicted = {row["sample"]: row for row in csv.DictReader(f)}
        served = {
            "mlp": Served(started[0], folder / "pngs" / "test", fashion_mnist_predicted(mlp, "mlp.csv", *NORMALIZE)),
            "cnn_rgb": Served(started[1], folder / "rgb" / "images", rgb_predicted),
        }
        for server in started:
            wait_until_healthy(server, STARTUP_S)
        yield served


@pytest.mark.parametrize("kind", ["mlp", "cnn_rgb"])
def test_served_classes_equal_litfashion_predict(servers: dict[str, Served], kind: str) -> None:
    """Every image, 8 requests at a time (so the worker batches them), answers predict's class."""
    served = servers[kind]
    names = sorted(served.predicted)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda name: served.server.post_file(served.image(name), name), names))
    assert {answer.status for answer in answers} == {200}
    for name, answer in zip(names, answers, strict=True):
        row, top = served.predicted[name], answer.json()["predictions"]
        assert len(top) == 3 if kind == "cnn_rgb" else 5  # top 5, or every class when there are fewer
        assert (top[0]["class_index"], top[0]["class_name"]) == (int(row["class_index"]), row["class_name"])
        assert top[0]["probability"] == pytest.approx(float(row["probability"]), abs=1e-5)
        assert [p["probability"] for p in top] == sorted((p["probability"] for p in top), reverse=True)
    assert len({row["probability"] for row in served.predicted.values()}) > 1  # answers that depend on the image


@pytest.fixture
def served(servers: dict[str, Served]) -> Served:
    return servers["mlp"]


def test_any_size_and_jpeg(served: Served) -> None:
    from PIL import Image

    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.jpg"
        Image.open(served.images / "000000.png").convert("RGB").resize((300, 200)).save(big, quality=90)
        answer = served.server.post_file(big.read_bytes(), "big.jpg")
    assert answer.status == 200
    assert sum(p["probability"] for p in answer.json()["predictions"]) <= 1 + 1e-6


def test_health_and_info(served: Served) -> None:
    assert served.server.get("/health").body == b"ok"
    info = served.server.get("/info").json()
    assert info["model"]["network"] == "litfashion.models.MLP"
    assert info["model"]["classes"][9] == "Ankle boot"


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int = 30_000) -> bytes:
    """A grayscale PNG that says it is ``side`` x ``side`` pixels, in a few KB: a decompression bomb's header."""
    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (side + 1) * 64, 9)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", rows) + png_chunk(b"IEND", b"")


def text_field(name: str, value: str) -> tuple[bytes, str]:
    body = f'--b0\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n--b0--\r\n'.encode()
    return body, "multipart/form-data; boundary=b0"


def bad_requests(png: bytes) -> dict[str, tuple[bytes, str, int, str]]:
    """name -> (body, Content-Type, the status expected, a part of the error expected)."""
    huge = multipart("file", "huge.png", png + b"\0" * MAX_UPLOAD_BYTES)
    whole, boundary = multipart("file", "a.png", png)
    return {
        "no file": (b"--b0--\r\n", "multipart/form-data; boundary=b0", 400, "no file in the field 'file'"),
        "text, not a file": (*text_field("file", "hello"), 400, "no file in the field 'file'"),
        "empty file": (*multipart("file", "empty.png", b""), 400, "empty.png: the file is empty"),
        "not an image": (*multipart("file", "notes.txt", b"just some text"), 415, "not a JPEG, PNG"),
        "truncated PNG": (*multipart("file", "cut.png", png[: len(png) // 2]), 400, "cut.png: the PNG data is corrupt"),
        "too many pixels": (*multipart("file", "big.png", bomb_png(10_000)), 413, "(10000x10000), over the limit of"),
        "decompression bomb": (*multipart("file", "bomb.png", bomb_png()), 413, "bomb.png: 900000000 pixels, over"),
        "over the size limit": (*huge, 413, f"over the limit of {MAX_UPLOAD_BYTES} bytes"),
        "wrong field name": (*multipart("image", "a.png", png), 400, "the form's fields: 'image'"),
        "wrong content type": (png, "image/png", 415, "got Content-Type image/png"),
        "JSON body": (
            json.dumps({"file": "a.png"}).encode(),
            "application/json",
            415,
            "got Content-Type application/json",
        ),
        "url-encoded form": (b"file=a.png", "application/x-www-form-urlencoded", 415, "multipart/form-data"),
        "no boundary": (b"garbage", "multipart/form-data", 400, "the multipart body cannot be read"),
        "unfinished multipart": (whole[: len(png) // 2], boundary, 400, "no file in the field 'file'"),
    }


BAD = list(bad_requests(b""))


@pytest.mark.parametrize("name", BAD)
def test_bad_request_gets_a_4xx_and_the_server_stays_up(served: Served, name: str) -> None:
    png = served.image("000000.png")
    body, content_type, status, expected = bad_requests(png)[name]
    answer = served.server.post("/predict", body, content_type)
    assert answer.status == status, answer.body
    assert answer.content_type == "application/json"
    detail = answer.json()["detail"]
    assert expected in detail
    assert "\n" not in detail
    good = served.server.post_file(png)
    assert good.status == 200
    assert good.json()["predictions"][0]["class_name"] == served.predicted["000000.png"]["class_name"]


def test_page_in_a_real_browser_shows_the_class(served: Served, tmp_path: Path) -> None:
    """The page at / in Debian's headless chromium: pick an exported PNG, read the top class shown."""
    from selenium import webdriver  # the dev extra's; Debian's chromium and chromium-driver drive it
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver_path, "install Debian's browser: apt-get install -y chromium chromium-driver (.ci/run)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=900,600",
                 f"--user-data-dir={tmp_path / 'profile'}"):  # fmt: skip
        options.add_argument(flag)
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        browser.get(served.server.url + "/")
        assert "litfashion" in browser.title
        name = "000003.png"
        browser.find_element(By.ID, "file").send_keys(str(served.images / name))
        WebDriverWait(browser, 20).until(lambda b: b.find_element(By.ID, "bars").get_attribute("data-top"))
        rows = browser.find_elements(By.CSS_SELECTOR, "#bars .row")
        assert len(rows) == 5
        assert rows[0].find_element(By.CLASS_NAME, "name").text == served.predicted[name]["class_name"]
        assert browser.execute_script("return document.getElementById('preview').naturalWidth") == 28
        assert browser.find_element(By.ID, "error").text == ""
    finally:
        browser.quit()


def test_sigterm_stops_every_process_of_the_server(servers: dict[str, Served]) -> None:
    """``kill PID`` stops the command and the HTTP and inference processes LitServe started (last: it ends a
    server the tests above used)."""
    process = servers["cnn_rgb"].server.process
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and group_alive(process.pid):
        time.sleep(0.2)
    assert not group_alive(process.pid)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
