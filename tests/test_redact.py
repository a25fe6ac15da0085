"""Secrets are masked by place and by value."""

from __future__ import annotations

from svccheck.redact import MASK, Redactor, is_sensitive_header


def test_sensitive_headers_by_name() -> None:
    for name in ("Authorization", "proxy-authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token"):
        assert is_sensitive_header(name), name
    for name in ("Content-Type", "X-Tenant-ID", "User-Agent"):
        assert not is_sensitive_header(name), name


def test_url_password_and_query_tokens() -> None:
    redactor = Redactor()
    masked = redactor.url("https://bob:hunter22@api.example.test/x?access_token=abc123&page=2&api_key=zzz")
    assert "hunter22" not in masked and "abc123" not in masked and "zzz" not in masked
    assert "bob:***@" in masked and "page=2" in masked


def test_values_masked_wherever_they_appear() -> None:
    redactor = Redactor(["tok-SECRET-1", "ab"])
    assert redactor.text("echo: tok-SECRET-1!") == f"echo: {MASK}!"
    # very short values are only masked by place, or ordinary words would vanish
    assert redactor.text("about") == "about"
    assert redactor.header("Authorization", "Bearer anything") == MASK


def test_url_passwords_in_free_text() -> None:
    assert Redactor().text("GET http://bob:pa55word@h/x failed") == "GET http://bob:***@h/x failed"


def test_manifest_errors_never_show_secrets() -> None:
    import pytest

    from svccheck.manifest import ManifestError, parse_manifest

    text = "services:\n  a: {url: 'ftp://u:url-pass-1@h/${DB_PASSWORD}', health: /h}\n"
    with pytest.raises(ManifestError) as info:
        parse_manifest(text, "m.yaml", environ={"DB_PASSWORD": "hunter2hunter2"})
    rendered = info.value.render()
    assert "bad URL" in rendered
    assert "hunter2hunter2" not in rendered and "url-pass-1" not in rendered


def test_secret_named_json_values_are_learned_but_keys_that_describe_a_secret_are_not() -> None:
    from svccheck.redact import answer_secrets, is_secret_key

    body = b'{"access_token": "tok-abc-123", "token_type": "bearer", "expires_in": 3600,'
    body += b' "nested": [{"client_secret": "cs-xyz-789", "author": "Alice Smith"}], "session_id": 98765432, "token": "DOWN"}'
    headers = [("Set-Cookie", 'sid="sess-qwe-456"; Path=/; HttpOnly'), ("set-cookie", "flag; Path=/")]
    assert answer_secrets(headers, body) == {
        "tok-abc-123",
        "cs-xyz-789",
        "98765432",
        "sess-qwe-456",
    }  # not "DOWN": too short to learn
    assert [
        is_secret_key(k) for k in ("refresh_token", "id_token", "token_endpoint", "api_key", "authors")
    ] == [
        True,
        True,
        False,
        True,
        False,
    ]
