"""Every command with hostile values: one line, the right exit code, never a traceback,
never a secret, never raw markup or control characters on the terminal."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.reliability.base import ROWS, csv_bytes, write_base

SECRET = "hunter2-Secret"
USAGE = 2


def one_clean_line(result, code: int) -> str:
    """The command failed as expected with one plain `error:` line, all it wrote to
    stderr; that line."""
    assert result.code == code, result.text
    assert "Traceback" not in result.text and "internal error" not in result.text
    assert "\x1b" not in result.text
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.err
    return lines[0]


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CARTWHEEL_CONFIG", str(tmp_path / "cartwheel.yaml"))
    monkeypatch.setenv("CARTWHEEL_RETRY_ATTEMPTS", "0")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scale: [1\n", "line 2"),
        ("- scale\n- seed\n", "not a mapping"),
        ('engine: "[/]x"\n', "engine: Input should be"),
        ('seed: "[/red]"\n', "[/red]"),
        ("data_dir: 7\n  bad: indentation\n", "line 2"),
        ("scael: 2\n", "scael: not a setting"),
        ("vocabulary:\n  earliest_dat: 2020-01-01\n", "vocabulary.earliest_dat: not a setting"),
        ("vocabulary:\n  earliest_date: 2024-02-30\n", "a value cannot be read (day is out"),
    ],
)
@pytest.mark.parametrize("command", ["run", "status", "monitor", "quarantine", "generate"])
def test_malformed_config_file_is_one_usage_line(
    cartwheel, tmp_path: Path, text: str, expected: str, command: str
) -> None:
    (tmp_path / "cartwheel.yaml").write_text(text)
    line = one_clean_line(cartwheel(command), USAGE)
    assert "invalid configuration" in line and expected in line


def test_config_file_that_is_not_utf8(cartwheel, tmp_path: Path) -> None:
    (tmp_path / "cartwheel.yaml").write_bytes(b"\xff\xfescale: 2\n")
    assert "cannot be read" in one_clean_line(cartwheel("status"), USAGE)


def _data_dirs(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "a_file").write_text("not a folder")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere" / "at-all")
    return {
        "file": tmp_path / "a_file",
        "dangling symlink": tmp_path / "dangling",
        "under a file": tmp_path / "a_file" / "data",
    }


@pytest.mark.parametrize("kind", ["file", "dangling symlink", "under a file"])
@pytest.mark.parametrize(
    "command", ["run", "status", "monitor", "quarantine", "generate", "ingest", "dashboard"]
)
def test_unusable_data_dir_is_one_usage_line(cartwheel, tmp_path: Path, kind, command) -> None:
    data_dir = _data_dirs(tmp_path)[kind]
    line = one_clean_line(cartwheel(command, "--data-dir", str(data_dir)), USAGE)
    assert f"data dir {data_dir}" in line


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc (Linux)")
@pytest.mark.parametrize("command", ["run", "monitor"])
def test_data_dir_that_cannot_be_created(cartwheel, command: str) -> None:
    line = one_clean_line(cartwheel(command, "--data-dir", "/proc/cartwheel-data"), USAGE)
    assert "cannot be created" in line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["status", "--limit", "-1"], "'--limit': Input should be greater than or equal to 1"),
        (["status", "--limit", "0"], "(see cartwheel status --help)"),
        (["status", "--limit", "abc"], "'--limit': Input should be a valid integer"),
        (["status", "--limit"], "Option '--limit' requires an argument"),
        (["status", "--bogus"], "No such option: --bogus"),
        (["statsu"], "No such command 'statsu'. Did you mean 'status'? (see cartwheel --help)"),
        (["run", "--scale", "[/red]"], "'--scale': Input should be a valid number"),
        (["generate", "--scale", "1e9"], "scale: Input should be less than or equal to 100000"),
        (["generate", "--scale", "-1"], "scale: Input should be greater than 0"),
        (["generate", "--scale", "nan"], "scale"),
        (["generate", "--day", "2024-02-30"], "--day '2024-02-30' is not a date"),
        (["run", "--engine", "oracle"], "engine"),
        (["run", "--engine", "postgres"], "needs --database-url"),
        (["quarantine", "--samples", "-3"], "'--samples': Input should be greater than"),
    ],
)
def test_bad_cli_values_are_usage_errors(cartwheel, args: list[str], expected: str) -> None:
    """One line, exit 2: the command line's own errors too (no usage panel)."""
    assert expected in one_clean_line(cartwheel(*args), USAGE)


def test_help_and_no_arguments_still_show_the_help(cartwheel) -> None:
    shown = cartwheel("status", "--help")
    assert shown.code == 0 and "--limit" in shown.out and shown.err == ""
    bare = cartwheel()
    assert bare.code == USAGE and "Usage: cartwheel" in bare.text and "error:" not in bare.text


@pytest.mark.parametrize("variable", ["CARTWHEEL_SCALE", "CARTWHEEL_RETRY_ATTEMPTS"])
def test_bad_environment_value(cartwheel, monkeypatch: pytest.MonkeyPatch, variable) -> None:
    monkeypatch.setenv(variable, "[/red]abc\x1b[2J")
    line = one_clean_line(cartwheel("status"), USAGE)
    assert "[/red]abc\\x1b[2J" in line


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://cart:{SECRET}@127.0.0.1:1/shop",
        f"postgresql://cart@127.0.0.1:1/shop?password={SECRET}&sslmode=disable",
        f"host=127.0.0.1 port=1 user=cart password={SECRET} dbname=shop",
        f"host=127.0.0.1 port=1 password='{SECRET} x' dbname=shop",
        f"cart:{SECRET}@127.0.0.1:1/shop",
    ],
)
@pytest.mark.parametrize("command", ["run", "status", "monitor"])
def test_no_dsn_form_prints_or_logs_its_password(
    cartwheel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dsn: str, command: str
) -> None:
    monkeypatch.setenv("CARTWHEEL_ENGINE", "postgres")
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", dsn)
    data_dir = tmp_path / "data"
    result = cartwheel(command, "--data-dir", str(data_dir))
    assert result.code != 0
    assert "Traceback" not in result.text and "internal error" not in result.text
    assert SECRET not in result.text
    written = (
        [p.read_text() for p in data_dir.rglob("*") if p.is_file()] if data_dir.exists() else []
    )
    assert not any(SECRET in text for text in written)


def test_dsn_without_scheme_is_a_usage_error(cartwheel, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARTWHEEL_DATABASE_URL", f"cart:{SECRET}@db.example:5432/shop")
    line = one_clean_line(cartwheel("run", "--engine", "postgres"), USAGE)
    assert "cart@db.example:5432/shop" in line and SECRET not in line


def test_keyword_dsn_is_printed_without_its_password(monkeypatch: pytest.MonkeyPatch) -> None:
    from cartwheel.config import load_settings

    settings = load_settings(
        engine="postgres", database_url=f"host=db port=5432 password={SECRET} dbname=shop"
    )
    assert settings.warehouse_location == "host=db port=5432 password=*** dbname=shop"


HOSTILE = "[/red][/] \x1b[2J\x1b]0;pwned\x07 \u202eevil"


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One real run whose data folder, input folder and a quarantined line hold markup and
    control characters (a transaction of an unknown customer: quarantined as orphan)."""
    root = tmp_path_factory.mktemp("hostile")
    orphan = f'TXN00006,CUST9999,2024-01-15,09:00:00,UPI,"{HOSTILE}",10.00'
    item = "ITEM00008,TXN00006,PROD0003,1,10.00,0,10.00"
    files = {
        "transactions": csv_bytes("transactions", [*ROWS["transactions"], orphan]),
        "transaction_items": csv_bytes("transaction_items", [*ROWS["transaction_items"], item]),
    }
    input_dir = write_base(root / "in [/red]put", files)
    return {"root": root, "input": input_dir, "data": root / "data [/red]\x1b[31m x"}


def test_hostile_paths_and_lines_through_every_reader(
    cartwheel, hostile_run: dict[str, Path]
) -> None:
    data = str(hostile_run["data"])
    ran = cartwheel("run", "--input", str(hostile_run["input"]), "--data-dir", data)
    assert ran.code == 0, ran.text
    for command in (["status"], ["quarantine"], ["monitor"], ["status", "--limit", "1"]):
        result = cartwheel(*command, "--data-dir", data)
        assert result.code in (0, 1), result.text  # monitor: degraded is 1
        for forbidden in ("Traceback", "internal error", "\x1b", "\x07", "\u202e"):
            assert forbidden not in result.text, (command, result.text)
    shown = cartwheel("quarantine", "--data-dir", data, "--samples", "5").out
    flat = re.sub(r"[\s│]", "", shown)  # cells fold over lines
    assert "[/red][/]" in flat and "\\x1b[2J" in flat and "\\u202eevil" in flat
    assert "\\x1b[31m" in cartwheel("status", "--data-dir", data).out


def test_failed_run_with_markup_in_its_error_then_status(cartwheel, tmp_path: Path) -> None:
    missing = tmp_path / "no [/red] such \x1b[1m folder"
    failed = cartwheel("run", "--input", str(missing), "--data-dir", str(tmp_path / "d"))
    assert "no [/red] such \\x1b[1m folder" in one_clean_line(failed, 1)
    status = cartwheel("status", "--data-dir", str(tmp_path / "d"))
    assert status.code == 0 and "Traceback" not in status.text and "\x1b" not in status.text


MISSING_COLUMN = "a mandatory column missing"
GATE = "the quality gate"
NO_DAY = "a batch folder that is no day"
A_FILE = "an input that is a file"


def _failing_inputs(tmp_path: Path) -> dict[str, Path]:
    no_name = "product_id,category\n" + "".join(
        f"{row.split(',')[0]},{row.split(',')[2]}\n" for row in ROWS["products"]
    )
    unreadable = [row.replace(",1,", ",one,") for row in ROWS["transaction_items"]]
    (tmp_path / "days" / "2024-02-30").mkdir(parents=True)
    return {
        MISSING_COLUMN: write_base(tmp_path / "a", {"products": no_name.encode()}),
        GATE: write_base(
            tmp_path / "b", {"transaction_items": csv_bytes("transaction_items", unreadable)}
        ),
        NO_DAY: tmp_path / "days",
        A_FILE: write_base(tmp_path / "c") / "customers.csv",
    }


@pytest.mark.parametrize(
    ("command", "kind", "expected"),
    [
        ("run", MISSING_COLUMN, "error: ingest: "),
        ("run", GATE, "error: quality: quality gate stopped the run"),
        ("run", NO_DAY, "error: ingest: "),
        ("ingest", MISSING_COLUMN, "error: ingest: "),
        ("ingest", NO_DAY, "error: ingest: "),
        ("run", A_FILE, "error: ingest: "),
    ],
)
def test_failed_run_prints_one_line(
    cartwheel, tmp_path: Path, command: str, kind: str, expected: str
) -> None:
    """The step's failure is told once, by the command (the run log keeps the step's and
    the run's own records of it)."""
    data_dir = tmp_path / "data"
    source = _failing_inputs(tmp_path)[kind]
    failed = cartwheel(command, "--input", str(source), "--data-dir", str(data_dir))
    line = one_clean_line(failed, 1)
    assert line.startswith(expected)
    assert kind != A_FILE or line.endswith("customers.csv: a file, not a folder")
    logged = "".join(path.read_text() for path in (data_dir / "logs").glob("*.jsonl"))
    assert '"level": "error"' in logged and '"event": "run_finished"' in logged


def test_last_resort_guard_is_one_line(cartwheel, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unforeseen failure (here: the status renderer breaks) is still one line."""
    import cartwheel.orchestration.status as status

    def broken(*_args: object) -> None:
        raise RuntimeError("disk \x1b[2J on fire\nsecond line")

    monkeypatch.setattr(status, "render_status", broken)
    result = cartwheel("status")
    assert result.code == 1 and "Traceback" not in result.text
    assert result.err == "error: internal error: RuntimeError: disk \\x1b[2J on fire second line\n"


def test_environment_is_left_alone() -> None:
    assert "CARTWHEEL_ENGINE" not in os.environ
