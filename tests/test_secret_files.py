"""`${file:/path}` and the `NAME_FILE` fallback: secrets handed over as files (/run/secrets/x)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from svccheck.manifest import ManifestError, load_manifest
from svccheck.model import HttpRequest
from svccheck.redact import Redactor

SECRET = "s3cr3t-from-a-file"


def _manifest(directory: Path, header: str) -> Path:
    path = directory / "services.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            services:
              api:
                url: http://localhost:8080
                checks:
                  - path: /me
                    headers: {{X-Api-Key: "{header}"}}
            """
        )
    )
    return path


def _header(path: Path, environ: dict[str, str]) -> str:
    manifest = load_manifest(str(path), environ=environ)
    target = manifest.services[0].checks[0].target
    assert isinstance(target, HttpRequest)
    return dict(target.headers)["X-Api-Key"]


def test_file_reference_reads_the_file_without_its_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "smoke"
    secret.write_text(SECRET + "\n")
    path = _manifest(tmp_path, f"${{file:{secret}}}")
    assert _header(path, {}) == SECRET
    manifest = load_manifest(str(path), environ={})
    assert SECRET in manifest.secrets  # masked in every output, whatever the key is called
    assert Redactor.for_manifest(manifest).text(f"echo {SECRET}") == "echo ***"


def test_relative_file_reference_is_read_from_the_manifest_directory(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "key").write_text(SECRET)
    assert _header(_manifest(tmp_path, "${file:secrets/key}"), {}) == SECRET


def test_unset_variable_falls_back_to_its_file(tmp_path: Path) -> None:
    secret = tmp_path / "api_key"
    secret.write_text(SECRET + "\r\n")
    path = _manifest(tmp_path, "${API_KEY}")
    assert _header(path, {"API_KEY_FILE": str(secret)}) == SECRET
    manifest = load_manifest(str(path), environ={"API_KEY_FILE": str(secret)})
    assert SECRET in manifest.secrets
    # the curl line of `check -v` refers to it as $API_KEY
    assert (SECRET, "API_KEY") in manifest.secret_vars


def test_a_set_variable_wins_over_its_file(tmp_path: Path) -> None:
    path = _manifest(tmp_path, "${API_KEY}")
    assert _header(path, {"API_KEY": "from-env", "API_KEY_FILE": "/nonexistent"}) == "from-env"


def test_a_file_var_is_a_secret_whatever_the_name(tmp_path: Path) -> None:
    secret = tmp_path / "plain"
    secret.write_text("not-named-like-a-secret")
    path = _manifest(tmp_path, "${REGION}")
    manifest = load_manifest(str(path), environ={"REGION_FILE": str(secret)})
    assert "not-named-like-a-secret" in manifest.secrets


@pytest.mark.parametrize("header", ["${file:MISSING}", "${API_KEY}"])
def test_missing_file_is_a_manifest_error_naming_the_file_at_its_position(
    tmp_path: Path, header: str
) -> None:
    path = _manifest(tmp_path, header.replace("MISSING", str(tmp_path / "nope")))
    with pytest.raises(ManifestError) as caught:
        load_manifest(str(path), environ={"API_KEY_FILE": str(tmp_path / "nope")})
    text = str(caught.value)
    assert "nope" in text and "cannot read secret file" in text
    assert "services.yaml:6:" in text  # the line of the header that referred to it


def test_an_unreadable_file_never_shows_its_contents(tmp_path: Path) -> None:
    big = tmp_path / "disk.img"
    big.write_bytes(b"TOPSECRET" * 10_000)  # too big to be a secret: a wrong path
    path = _manifest(tmp_path, f"${{file:{big}}}")
    with pytest.raises(ManifestError) as caught:
        load_manifest(str(path), environ={})
    assert "disk.img" in str(caught.value)
    assert "TOPSECRET" not in str(caught.value)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfeTOPSECRET")
    with pytest.raises(ManifestError) as caught:
        load_manifest(str(_manifest(tmp_path, f"${{file:{binary}}}")), environ={})
    assert "not UTF-8" in str(caught.value) and "TOPSECRET" not in str(caught.value)
