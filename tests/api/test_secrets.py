"""Secrets and bad input in the HTTP layer: redirects, untrimmed keys, partial echoes, OAuth
rotation across runs, masked account address. Real loopback servers and the sandbox only."""

from __future__ import annotations

import gc
import json
import logging
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import requests_mock as rm
from singer_sdk.exceptions import ConfigValidationError

from tap_getresponse.api import (
    SECRET_LOG_FILTER,
    ConfigError,
    ConnectionCheckError,
    ForeignHostError,
    GetResponseAPIError,
    GetResponseClient,
    GetResponseSession,
    RateGovernor,
    RedirectRefusedError,
    check_connection_settings,
    redact,
    schema_errors_without_secrets,
)
from tap_getresponse.api.token_file import RefreshTokenFile
from tap_getresponse.tap import TapGetResponse
from tests.api.loopback import Answer, LoopbackServer, Seen
from tests.sandbox import OAuthApp, Scale

KEY = "k3y-0f-the-api-that-must-stay-home"
DOMAIN = "brand.example.com"
SMALL = Scale(contacts=10)
#: Keys made of the characters regular expressions treat specially.
SPECIAL_KEYS = [
    r"a.*+?()[]{}|\^$z-0123456789",
    r"(.*)+?[a-z]{8}|^$\\..**",
    "0123456789abcdef0123456789abcdef",
]


def leaks(text: str, secret: str) -> bool:
    """Whether 8 or more consecutive characters of `secret` appear in `text`."""
    return any(secret[i : i + 8] in text for i in range(len(secret) - 7))


def executable(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def run_tap(tmp_path: Path, config: dict, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [executable("tap-getresponse"), "--config", str(path), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def client_for(sb, **config) -> GetResponseClient:
    settings = {"api_url": sb.url, **config}
    if not {"api_key", "access_token", "client_id"} & settings.keys():
        settings["api_key"] = sb.api_key
    client = GetResponseClient(settings, governor=RateGovernor())
    client.session.sleep = lambda _seconds: time.sleep(0.01)
    return client


# ---- 1. credentials never follow a redirect ---------------------------------------------------


@pytest.fixture
def capture():
    """Another host (127.0.0.2) that records what reaches it and answers an empty list."""
    with LoopbackServer("127.0.0.2") as server:
        yield server


def redirecting(status: int, location) -> LoopbackServer:
    """The configured API host (127.0.0.1), answering every request with a redirect."""
    return LoopbackServer(
        "127.0.0.1", lambda seen: Answer(status, {"Location": location(seen)}, body={})
    )


REDIRECTS = [301, 302, 303, 307, 308]
AUTHS = {
    "api-key": {"api_key": KEY, "domain": DOMAIN},
    "access-token": {"access_token": KEY, "domain": DOMAIN},
}


@pytest.mark.parametrize("auth", AUTHS.values(), ids=AUTHS.keys())
@pytest.mark.parametrize("status", REDIRECTS)
def test_a_redirect_to_another_host_is_refused_and_no_credential_leaves(
    capture, status, auth
) -> None:
    with redirecting(status, lambda seen: f"{capture.origin}{seen.path}") as api:
        client = GetResponseClient({"api_url": f"{api.origin}/v3", **auth}, governor=RateGovernor())
        with pytest.raises(RedirectRefusedError) as caught:
            client.request("GET", "/contacts", params={"page": 1})
    assert isinstance(caught.value, GetResponseAPIError)  # what both plugins turn into one line
    assert str(caught.value) == (
        f"GetResponse API {status} on GET /contacts: the API answered with a redirect to "
        f"{capture.origin}, which is not followed (credentials go only to the configured API "
        "host): check `api_url`"
    )
    assert capture.log == []
    assert capture.credentials_seen() == []
    assert len(api.log) == 1  # asked once, not again elsewhere


@pytest.mark.parametrize("status", [307, 308])
def test_a_post_is_not_sent_again_to_the_redirect_target(capture, status) -> None:
    with redirecting(status, lambda seen: f"{capture.origin}{seen.path}") as api:
        client = GetResponseClient({"api_url": f"{api.origin}/v3", "api_key": KEY})
        with pytest.raises(RedirectRefusedError):
            client.request("POST", "/contacts/batch", json={"contacts": []}, retry_post=True)
    assert capture.log == []
    assert [(seen.method, seen.path) for seen in api.log] == [("POST", "/v3/contacts/batch")]


def test_the_oauth_token_request_obeys_the_same_rule(capture) -> None:
    oauth = {"client_id": "cid", "client_secret": KEY, "refresh_token": "rt-" + KEY}
    with redirecting(307, lambda seen: f"{capture.origin}{seen.path}") as api:
        client = GetResponseClient({"api_url": f"{api.origin}/v3", **oauth, "domain": DOMAIN})
        with pytest.raises(RedirectRefusedError) as caught:
            client.request("GET", "/accounts")
    assert (caught.value.method, caught.value.path) == ("POST", "/token")
    assert capture.log == []
    assert [(seen.method, seen.path) for seen in api.log] == [("POST", "/v3/token")]
    assert not leaks(str(caught.value), KEY)


def test_a_redirect_on_the_same_host_is_not_followed_either() -> None:
    with redirecting(302, lambda _seen: "/v3/elsewhere") as api:
        client = GetResponseClient({"api_url": f"{api.origin}/v3", "api_key": KEY})
        with pytest.raises(RedirectRefusedError, match=f"redirect to {api.origin},"):
            client.request("GET", "/campaigns")
    assert [seen.path for seen in api.log] == ["/v3/campaigns"]


def test_the_connection_check_names_api_url_for_a_redirect(capture) -> None:
    with redirecting(301, lambda seen: f"{capture.origin}{seen.path}") as api:
        client = GetResponseClient({"api_url": f"{api.origin}/v3", "api_key": KEY})
        with pytest.raises(ConnectionCheckError) as caught:
            client.check_connection()
    assert caught.value.setting == "api_url"
    assert "redirects elsewhere" in str(caught.value)
    assert capture.log == []


def test_the_tap_ends_a_redirected_run_with_one_line_and_exit_1(capture, tmp_path) -> None:
    with redirecting(302, lambda seen: f"{capture.origin}{seen.path}") as api:
        config = {"api_url": f"{api.origin}/v3", "api_key": KEY, "domain": DOMAIN}
        result = run_tap(tmp_path, config)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if "Sync failed:" in line]
    assert len(failed) == 1
    # The first request of the run (streams go in name order) is the one refused.
    assert f": the API answered with a redirect to {capture.origin}" in failed[0]
    assert " on GET /" in failed[0]
    assert not leaks(result.stdout + result.stderr, KEY)
    assert capture.log == []


def test_the_target_ends_a_redirected_load_with_one_line_and_exit_1(capture, tmp_path) -> None:
    schema = {"properties": {"email": {"type": "string"}}}
    lines = [
        {"type": "SCHEMA", "stream": "contacts", "schema": schema, "key_properties": ["email"]},
        {"type": "RECORD", "stream": "contacts", "record": {"email": "someone@example.org"}},
    ]
    with redirecting(307, lambda seen: f"{capture.origin}{seen.path}") as api:
        config = {"api_url": f"{api.origin}/v3", "api_key": KEY, "campaign_id": "CPZ"}
        (tmp_path / "config.json").write_text(json.dumps(config))
        result = subprocess.run(
            [executable("target-getresponse"), "--config", str(tmp_path / "config.json")],
            input="".join(json.dumps(line) + "\n" for line in lines),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    failed = [line for line in result.stderr.splitlines() if "Load failed:" in line]
    assert len(failed) == 1
    assert f"the API answered with a redirect to {capture.origin}" in failed[0]
    assert not leaks(result.stdout + result.stderr, KEY)
    assert capture.log == []


def test_a_request_for_another_host_is_refused_before_it_leaves(requests_mock: rm.Mocker) -> None:
    session = GetResponseSession(governor=RateGovernor(), api_origin="https://api.getresponse.com")
    session.headers["X-Auth-Token"] = f"api-key {KEY}"
    for url in ("https://evil.example/v3/x", "http://api.getresponse.com/v3/x"):
        request = requests.Request("GET", url).prepare()
        with pytest.raises(ForeignHostError) as caught:
            session.send(request)
        assert str(caught.value).startswith(f"Refused GET /v3/x: not sent to {url[:-5]}")
    assert requests_mock.call_count == 0
    ok = requests.Request("GET", "https://api.getresponse.com:443/v3/x").prepare()
    requests_mock.get("https://api.getresponse.com:443/v3/x", json=[])
    assert session.send(ok).status_code == 200


# ---- 2. keys read from files end in a newline -------------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " \t\n"], ids=["lf", "crlf", "blanks"])
def test_secrets_are_trimmed_where_the_client_is_built(make_sandbox, suffix) -> None:
    oauth = OAuthApp(client_id="cid", client_secret="csecret-value", refresh_token="rt-initial")
    sb = make_sandbox(scale=SMALL, domain=DOMAIN, oauth=oauth)
    configs = [
        {"api_key": sb.api_key + suffix},
        {"access_token": sb.issue_access_token() + suffix},
        {
            "client_id": "cid" + suffix,
            "client_secret": "csecret-value" + suffix,
            "refresh_token": suffix + "rt-initial" + suffix,
        },
    ]
    for config in configs:
        client = client_for(sb, domain=DOMAIN + suffix, **config)
        assert client.check_connection().startswith("Connected to GetResponse as ")


@pytest.mark.parametrize("setting", ["api_key", "access_token", "client_secret", "refresh_token"])
def test_a_control_character_inside_a_secret_is_one_line_naming_the_setting(setting) -> None:
    config = {"client_id": "cid", "client_secret": "s", "refresh_token": "r"}
    if setting in {"api_key", "access_token"}:
        config = {}
    config[setting] = KEY[:10] + "\n" + KEY[10:]
    for build in (check_connection_settings, GetResponseClient):
        with pytest.raises(ConfigError) as caught:
            build(config)
        message = str(caught.value)
        assert f"`{setting}` has a line break" in message
        assert "\n" not in message
        assert not leaks(message, KEY)


def test_an_untrimmed_wrong_key_fails_in_one_line_without_the_key(make_sandbox, tmp_path) -> None:
    sb = make_sandbox(scale=SMALL)
    wrong = KEY + "\r\n"
    result = run_tap(tmp_path, {"api_url": sb.url, "api_key": wrong}, "--test")
    assert result.returncode == 1
    assert "Connection check failed: GetResponse rejected the API key" in result.stderr
    assert "Traceback" not in result.stderr
    assert not leaks(result.stdout + result.stderr, KEY)
    right = run_tap(tmp_path, {"api_url": sb.url, "api_key": sb.api_key + "\n"}, "--test")
    assert right.returncode == 0, right.stderr


@pytest.mark.parametrize(
    ("value", "kind"),
    [(123456789012345, "a number"), ([KEY], "a list"), ({"key": KEY}, "an object")],
    ids=["number", "list", "object"],
)
def test_a_secret_of_the_wrong_type_is_named_not_quoted(value, kind) -> None:
    class Tap(TapGetResponse):
        def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
            check = super()._validate_config
            return schema_errors_without_secrets(check, self.config, raise_errors=raise_errors)

    with pytest.raises(ConfigValidationError) as caught:
        Tap(config={"api_key": value}, validate_config=True)
    assert caught.value.errors == [f"`api_key` must be a string, not {kind}."]
    with pytest.raises(ConfigError, match=f"`api_key` must be a string, not {kind}"):
        check_connection_settings({"api_key": value})


# ---- 3. no run of 8 characters of a secret, whatever echoes it --------------------------------


@pytest.mark.parametrize("key", SPECIAL_KEYS, ids=["specials", "regex-like", "hex"])
def test_redact_masks_every_run_of_eight_characters(key) -> None:
    echoes = [
        key,
        key[:8],
        key[-9:],
        key[3:15],
        f"{key}{key}",
        f"{key[:10]}…{key[-10:]}",
        key + "\r\n",
        f'{{"sentKey":"{key[2:20]}"}}',
    ]
    for echo in echoes:
        text = f"before {echo} after"
        masked = redact(text, [key])
        assert not leaks(masked, key), masked
        assert masked.startswith("before ")
        assert "***" in masked
        assert masked.endswith(" after")
    assert redact(f"only {key[:7]} here", [key]) == f"only {key[:7]} here"
    assert redact("nothing secret here", [key]) == "nothing secret here"


def test_redact_keeps_the_text_around_runs_of_several_secrets() -> None:
    first, second = SPECIAL_KEYS[0], SPECIAL_KEYS[2]
    text = f"a={first[:9]} b={second[5:]}, c=ok"
    assert redact(text, [first, second]) == "a=*** b=***, c=ok"


def test_an_error_body_echoing_part_of_the_key_is_masked(caplog) -> None:
    def echo(seen: Seen) -> Answer:
        sent = seen.headers["X-Auth-Token"].removeprefix("api-key ")
        body = {
            "httpStatus": 401,
            "code": 1014,
            "message": f"Unknown key {sent[:12]}...",
            "context": {"hint": f"ends with {sent[-10:]}", "keyPart": sent[5:16]},
        }
        return Answer(401, body=body)

    key = SPECIAL_KEYS[0]
    with LoopbackServer("127.0.0.1", echo) as api:
        client = GetResponseClient({"api_url": f"{api.origin}/v3", "api_key": key + "\n"})
        with pytest.raises(GetResponseAPIError) as caught:
            client.request("GET", "/accounts")
    message = str(caught.value)
    assert message.startswith("GetResponse API 401 (code 1014) on GET /accounts: Unknown key ***")
    assert not leaks(message, key)
    assert not leaks(caplog.text, key)


def test_the_log_filter_masks_every_record_while_the_client_lives(caplog) -> None:
    caplog.set_level(logging.INFO)
    key = SPECIAL_KEYS[1]
    client = GetResponseClient({"api_key": key + "\n"}, logger=logging.getLogger("tap-test"))
    elsewhere = logging.getLogger("urllib3.connectionpool")  # a library's own logger
    elsewhere.warning("sent header X-Auth-Token: %s", f"api-key {key}")
    try:  # what requests raised for a key with a trailing newline
        requests.Request("GET", "http://x.test", headers={"X-Auth-Token": key + "\n"}).prepare()
    except requests.exceptions.InvalidHeader:
        logging.getLogger("tap-test").exception("Request failed for %s", key[4:16])
    assert "sent header X-Auth-Token: api-key ***" in caplog.text
    assert "InvalidHeader: Invalid leading whitespace" in caplog.text
    assert "header value: '***'" in caplog.text  # as repr() quoted it, escapes and all
    assert not leaks(caplog.text, key)
    assert key in SECRET_LOG_FILTER.secrets()
    del client
    gc.collect()
    assert key not in SECRET_LOG_FILTER.secrets()  # a finished run's secrets are let go


# ---- 4. a rotated refresh token outlives the run ----------------------------------------------

ROTATING = {"client_id": "cid", "client_secret": "csecret-value", "refresh_token": "rt-1"}


@pytest.fixture
def rotating(make_sandbox):
    oauth = OAuthApp(**ROTATING, rotate_refresh_token=True)
    return make_sandbox(scale=SMALL, oauth=oauth)


def test_a_rotated_refresh_token_is_kept_for_the_next_run(rotating, tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO)
    token_file = tmp_path / "state" / "getresponse-oauth.json"
    first = client_for(rotating, **ROTATING, oauth_token_file=str(token_file))
    assert first.request("GET", "/campaigns").status_code == 200
    rotated = rotating.refresh_token
    assert rotated != "rt-1"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"] == rotated
    assert [path.name for path in token_file.parent.iterdir()] == [token_file.name]
    assert f"kept in {token_file} for the next runs" in caplog.text
    # The next run starts from the settings, whose refresh token no longer works.
    second = client_for(rotating, **ROTATING, oauth_token_file=str(token_file))
    assert second.request("GET", "/campaigns").status_code == 200
    assert f"OAuth: using the refresh token kept in {token_file}" in caplog.text
    assert json.loads(token_file.read_text())["refresh_token"] == rotating.refresh_token
    for token in ("rt-1", rotated, rotating.refresh_token, "csecret-value"):
        assert token not in caplog.text
    with pytest.raises(GetResponseAPIError, match="`refresh_token` is invalid"):
        client_for(rotating, **ROTATING).request("GET", "/campaigns")  # without the file


def test_a_wider_or_broken_token_file_is_replaced_by_a_0600_one(rotating, tmp_path, caplog):
    token_file = tmp_path / "oauth.json"
    token_file.write_text("not json")
    token_file.chmod(0o644)
    client = client_for(rotating, **ROTATING, oauth_token_file=str(token_file))
    assert "holds no refresh token; using the `refresh_token` setting" in caplog.text
    client.request("GET", "/campaigns")
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert json.loads(token_file.read_text())["refresh_token"] == rotating.refresh_token


def test_a_token_file_that_cannot_be_written_is_reported_and_the_run_goes_on(
    rotating, tmp_path, caplog
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    client = client_for(rotating, **ROTATING, oauth_token_file=str(blocker / "oauth.json"))
    assert client.request("GET", "/campaigns").status_code == 200
    assert "could not be kept in" in caplog.text
    assert rotating.refresh_token not in caplog.text


def test_a_new_refresh_token_setting_wins_over_the_kept_one(tmp_path, caplog) -> None:
    caplog.set_level(logging.INFO)
    path = tmp_path / "oauth.json"
    RefreshTokenFile(path, client_id="cid", configured="rt-setting-1").save("rt-rotated-2")
    kept = RefreshTokenFile(path, client_id="cid", configured="rt-setting-1")
    assert kept.refresh_token() == "rt-rotated-2"
    renewed = RefreshTokenFile(path, client_id="cid", configured="rt-setting-new")
    assert renewed.refresh_token() == "rt-setting-new"
    assert "`refresh_token` setting changed since" in caplog.text
    other_app = RefreshTokenFile(path, client_id="other", configured="rt-setting-1")
    assert other_app.refresh_token() == "rt-setting-1"
    assert "written for another `client_id`" in caplog.text
    assert "rt-rotated-2" not in caplog.text


def test_the_tap_keeps_the_rotated_token_between_runs_without_printing_it(
    rotating, tmp_path
) -> None:
    token_file = tmp_path / "oauth.json"
    config = {"api_url": rotating.url, **ROTATING, "oauth_token_file": str(token_file)}
    seen = []
    for _run in range(2):
        result = run_tap(tmp_path, config, "--test")
        assert result.returncode == 0, result.stderr
        seen.append(rotating.refresh_token)
        output = result.stdout + result.stderr
        assert all(token not in output for token in ("rt-1", *seen))
    assert seen[0] != seen[1]  # the second run refreshed with the kept token, which rotated
    assert "OAuth: using the refresh token kept in" in result.stderr
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


# ---- 5. the account's address is masked ------------------------------------------------------


def test_the_connection_check_masks_the_account_email(make_sandbox, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    sb = make_sandbox(scale=SMALL)
    verdict = client_for(sb).check_connection()
    assert verdict.startswith("Connected to GetResponse as ***@brand.test (account ")
    assert "owner@brand.test" not in verdict + caplog.text
