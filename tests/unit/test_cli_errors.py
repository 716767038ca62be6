"""Bad configuration and bad command-line values: one line on stderr, exit status 2, no traceback, no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawatch.cli import main

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    return code, err


def one_line_failure(code: int, err: str) -> None:
    assert code == 2
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'mqtt_url = "mqtt://h:1883"\n[[', "not valid TOML"),
        (b"\xff\xfe\x00m\x00q", "not UTF-8"),
        (b'mqtt_url = "mqtt://h:1883"\nhttp_port = \xe9\n', "not UTF-8"),
    ],
)
def test_a_config_file_that_cannot_be_read_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    config = tmp_path / "seawatch.toml"
    config.write_bytes(content)
    code, err = run(["--config", str(config), "check-config"], capsys)
    one_line_failure(code, err)
    assert expected in err and "seawatch.toml" in err


@pytest.mark.parametrize("variable", ["SEAWATCH_PARTNERS", "SEAWATCH_OPERATOR_TOKENS", "SEAWATCH_MQTT_TOPICS"])
def test_bad_json_in_a_variable_is_one_line_without_its_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str], variable: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, '{"duty": "tok-3141592653"')
    code, err = run(["check-config"], capsys)
    one_line_failure(code, err)
    assert variable.removeprefix("SEAWATCH_").lower() in err and "tok-3141592653" not in err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://", "must name a host"),
        ("https://", "must name a host"),
        ("https://partner example/hook", "spaces"),
        ("https://rescue-ngo.test/hook\\u0007", "control characters"),
        ("https://rescue-ngo.test:99999/hook", "bad port"),
        ("https://rescue-ngo.test:0/hook", "bad port"),
        ("https://rescue-ngo.test:http/hook", "bad port"),
        ("ftp://rescue-ngo.test/hook", "http:// or https://"),
    ],
)
def test_check_config_refuses_a_bad_partner_url_without_echoing_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, expected: str
) -> None:
    config = tmp_path / "seawatch.toml"
    config.write_text(f'[[partners]]\nname = "ngo"\nurl = "{url}"\nsecret = "{SECRET}"\n', encoding="utf-8")
    code, err = run(["--config", str(config), "check-config", "--zones", "zones"], capsys)
    assert code == 2 and expected in err and "Traceback" not in err
    assert "rescue-ngo.test" not in err and SECRET not in err


def test_check_config_refuses_two_partners_with_one_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "seawatch.toml"
    partner = f'[[partners]]\nname = "ngo"\nurl = "https://a.example/hook"\nsecret = "{SECRET}"\n'
    config.write_text(partner + partner.replace("a.example", "b.example"), encoding="utf-8")
    code, err = run(["--config", str(config), "check-config"], capsys)
    assert code == 2 and "two partners named 'ngo'" in err


@pytest.mark.parametrize(
    "url",
    ["mqtt//user:pa55word@broker", "mqtt://user:pa55word@broker:xx", "mqt://user:pa55word@broker", "user:pa55word@b"],
)
def test_a_mistyped_mqtt_url_is_never_echoed_with_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    config = tmp_path / "seawatch.toml"
    config.write_text(f'mqtt_url = "{url}"\n', encoding="utf-8")
    code, err = run(["--config", str(config), "check-config"], capsys)
    assert code == 2 and "pa55word" not in err and "Traceback" not in err
    code, err = run(["drill", "--publish", f"{url}/ais/x"], capsys)
    assert code == 2 and "pa55word" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["replay", "--speed", "0", "x.nmea"], "--speed"),
        (["replay", "--speed", "-2", "x.nmea"], "--speed"),
        (["replay", "--speed", "nan", "x.nmea"], "--speed"),
        (["replay", "--speed", "inf", "x.nmea"], "--speed"),
        (["replay", "--mmsi", "abc", "x.nmea"], "not an MMSI"),
        (["replay", "--mmsi", "533180734,12x", "x.nmea"], "not an MMSI"),
        (["drill", "--publish", "mqtt://127.0.0.1:1/x", "--speed", "0"], "--speed"),
        (["drill", "--publish", "mqtt://127.0.0.1:1/x", "--lat", "999"], "--lat"),
        (["drill", "--publish", "mqtt://127.0.0.1:1/x", "--lon", "-181"], "--lon"),
        (["drill", "--publish", "mqtt://127.0.0.1:1/x", "--lat", "nan"], "--lat"),
        (["drill", "--publish", "mqtt://127.0.0.1:1/x", "--minutes", "0"], "--minutes"),
        (["demo", "--speed", "0"], "--speed"),
        (["run", "--duration", "-1"], "--duration"),
        (["run", "--http-port", "70000"], "--http-port"),
    ],
)
def test_bad_command_line_values_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], expected: str
) -> None:
    code, err = run(argv, capsys)
    one_line_failure(code, err)
    assert expected in err
