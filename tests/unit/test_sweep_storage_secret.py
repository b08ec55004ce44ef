"""The study's storage URL may hold a server's password: it comes from ``--storage``, a file (``--storage_file``) or
``$LITFASHION_SWEEP_STORAGE``, and is shown only masked (``sweep:***@host``), in every error line too."""

from pathlib import Path

import pytest

from litfashion.cli import main
from litfashion.errors import ConfigError
from litfashion.sweep.config import STORAGE_ENV, parse_sweep_args
from tests.helpers.paths import CONFIGS
from tests.helpers.postgres import free_port

TINY = CONFIGS / "sweeps" / "tiny.yaml"
SECRET = "pa55@Word/never-shown"
ENCODED = "pa55%40Word%2Fnever-shown"  # as it is written in a URL


def test_the_url_comes_from_the_flag_a_file_or_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    base = ["--config", str(TINY)]
    url = f"postgresql+psycopg://sweep:{ENCODED}@db-host/sweeps"
    monkeypatch.setenv(STORAGE_ENV, f" {url}\n")
    assert parse_sweep_args(base).storage == url
    assert parse_sweep_args([*base, "--storage", "x.journal"]).storage == "x.journal"  # a flag first
    (tmp_path / "url").write_text(f"\n{url.replace('db-host', 'other')}  \n")
    assert parse_sweep_args([*base, "--storage_file", "url"]).storage == url.replace("db-host", "other")
    with pytest.raises(ConfigError, match="storage and storage_file are both set"):
        parse_sweep_args([*base, "--storage", "x.journal", "--storage_file", "url"])
    (tmp_path / "empty").write_text(" \n")
    with pytest.raises(ConfigError, match="storage_file empty is empty"):
        parse_sweep_args([*base, "--storage_file", "empty"])
    assert ENCODED not in repr(parse_sweep_args(base))


BAD_URLS = {
    "an unsupported server": (
        f"mysql://sweep:{ENCODED}@db-host/sweeps",
        "storage mysql://sweep:***@db-host/sweeps: only a journal file path",
    ),
    "a server that does not answer": (
        f"postgresql+psycopg://sweep:{ENCODED}@127.0.0.1:{{port}}/sweeps",
        "storage postgresql+psycopg://sweep:***@127.0.0.1:{port}/sweeps: cannot open: ",
    ),
}


@pytest.mark.parametrize("case", list(BAD_URLS))
def test_an_error_about_the_storage_never_shows_its_password(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    port = free_port()  # nothing listens there
    url, shown = (text.format(port=port) for text in BAD_URLS[case])
    (tmp_path / "url").write_text(url)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exited:
        main(["sweep", "--config", str(TINY), "--storage_file", "url"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    (line,) = [line for line in err.splitlines() if "error" in line]
    assert line.startswith(f"litfashion sweep: error: {shown}"), line
    assert SECRET not in out + err and ENCODED not in out + err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["url"]  # nothing written
