"""The `muni` commands that do not serve: token, fork, protocol check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from gateway.cli import main
from kernel.auth import InvalidToken, verify
from kernel.cities import load_city
from kernel.config import Settings
from kernel.keys import require_configured_keys, with_keys
from services.members.application import Members

if TYPE_CHECKING:
    from pathlib import Path

MEMBER = "demo:0b9e7c1e-3f7a-4a52-9d4f-2f8a1c3e5b6d"


def test_token_mints_a_token_signed_with_the_data_folders_key(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("MUNI_JWT_SECRET", raising=False)
    monkeypatch.setenv("MUNI_DATA_DIR", str(tmp_path))
    assert main(["token", "--member", MEMBER, "--roles", "member,board"]) == 0
    token = capsys.readouterr().out.strip()
    identity = verify(token, with_keys(Settings(data_dir=tmp_path)).signing_key, city="demo")
    assert (identity.member_id, identity.city) == (MEMBER, "demo")
    assert identity.roles == {"member", "board"}
    # another data folder has another key: the token does not verify there
    with pytest.raises(InvalidToken, match="signature does not verify"):
        verify(token, with_keys(Settings(data_dir=tmp_path / "other")).signing_key)


@pytest.mark.parametrize("command", [["serve", "gateway"], ["worker", "rides"]])
def test_scale_out_refuses_to_start_without_configured_keys(
    command: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MUNI_JWT_SECRET", raising=False)
    monkeypatch.delenv("MUNI_IDENTIFIER_KEY", raising=False)
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "MUNI_JWT_SECRET and MUNI_IDENTIFIER_KEY not set" in err
    assert "muni keygen" in err


def test_keygen_prints_a_pair_the_settings_accept(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keygen"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith("#")]
    env = dict(line.split("=", 1) for line in lines)
    settings = Settings.from_env(env)
    require_configured_keys(settings)


def test_grant_records_a_role_as_the_operator(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MUNI_DATA_DIR", str(tmp_path))
    settings = with_keys(Settings(data_dir=tmp_path))
    members = Members(settings)
    ada = members.accounts.sign_up(
        display_name="Ada", password="a long enough passphrase", email="ada@example.org"
    )
    members.close()

    assert (
        main(
            [
                "grant",
                "--member",
                ada.member_id,
                "--role",
                "board",
                "--reason",
                "founding board",
                "--operator",
                "ops",
            ]
        )
        == 0
    )
    assert "'board'" in capsys.readouterr().out
    members = Members(settings)
    account = members.accounts.account(ada.member_id)
    assert account.roles == ["member", "board"]
    members.close()


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--member", "nobody"], "must look like '<city>:<uuid>'"),
        (["--member", MEMBER, "--roles", "member,emperor"], "unknown roles ['emperor']"),
    ],
)
def test_token_refuses_bad_input_naming_it(
    args: list[str],
    complaint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("MUNI_DATA_DIR", str(tmp_path))  # keys go there, not into the checkout
    assert main(["token", *args]) == 2
    assert complaint in capsys.readouterr().err


def test_fork_writes_a_city_that_loads(tmp_path: Path) -> None:
    code = main(["fork", "ghent", "--name", "Ghent Co-op", "--cities-dir", str(tmp_path)])
    assert code == 0
    city = load_city("ghent", cities_dir=tmp_path)
    assert (city.id, city.name, city.currency) == ("ghent", "Ghent Co-op", "EUR")
    assert city.rides == load_city("demo").rides  # the policies are the template's


def test_fork_refuses_an_existing_city_or_a_bad_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ghent.toml").write_text("taken")
    assert main(["fork", "Not A City", "--cities-dir", str(tmp_path)]) == 2
    assert main(["fork", "ghent", "--cities-dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_protocol_check_passes_on_this_checkout() -> None:
    assert main(["protocol", "check"]) == 0


def test_bench_matching_quick_writes_the_summary(tmp_path: Path) -> None:
    # `make bench` runs exactly this command; here only the fastest benchmark, to stay quick,
    # with the summary (and the quick JSON beside it) in the test's folder.
    out = tmp_path / "summary.md"
    code = main(["bench", "matching", "--quick", "--only", "batch_assignment", "--out", str(out)])
    assert code == 0
    summary = out.read_text()
    assert "batch assignment" in summary.lower()
    assert "1000 x 2000" in summary
    assert (tmp_path / "quick" / "batch_assignment.json").exists()
