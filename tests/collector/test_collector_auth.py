"""Access: ingest is open; reads, export, erasure and the dashboard need the admin token."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from collector_mock import close_connections, create_app
from collector_mock.app import CONTENT_SECURITY_POLICY
from collector_mock.auth import fingerprint
from tests.collector.conftest import ADMIN_TOKEN, HOSTILE_HOSTNAME, HOSTILE_SSID, hostile_report

GUARDED = [
    ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/households"),
    ("GET", "/api/v1/households/h0003"),
    ("GET", "/api/v1/households/h0003/devices"),
    ("GET", "/api/v1/households/h0003/devices/3c:22:fb:11:22:00"),
    ("GET", "/api/v1/households/h0003/networks"),
    ("GET", "/api/v1/households/h0003/export?format=csv"),
    ("GET", "/api/v1/households/h0003/erasure-check"),
    ("DELETE", "/api/v1/households/h0003"),
    ("GET", "/api/v1/reports"),
    ("GET", "/api/v1/reports/1"),
    ("GET", "/api/v1/tvs/h0003-tv1/timeline"),
    ("GET", "/api/v1/tvs/h0003-tv1/erasure-check"),
    ("DELETE", "/api/v1/tvs/h0003-tv1"),
    ("GET", "/api/v1/search?q=3c"),
    ("GET", "/api/v1/erasures"),
]
DASHBOARD = ["/", "/households/h0003", "/households/h0003/export.csv", "/search?q=x", "/erasures"]


@pytest.fixture
def stored(client: FlaskClient, make_report) -> None:
    assert client.post("/api/v1/report", json=make_report()).status_code == 200


@pytest.mark.parametrize(("method", "url"), GUARDED)
@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token-000000", f"Basic {ADMIN_TOKEN}", "Bearer", f"bearer  {ADMIN_TOKEN}x"],
)
def test_api_needs_the_admin_token(
    anonymous: FlaskClient, stored: None, table_counts, method: str, url: str, authorization: str | None
) -> None:
    before = table_counts()
    headers = {"Authorization": authorization} if authorization else {}
    response = anonymous.open(url, method=method, headers=headers)
    assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert b"3c:22:fb" not in response.data
    assert table_counts() == before  # a refused DELETE erased nothing


@pytest.mark.parametrize(("method", "url"), GUARDED)
def test_api_opens_with_the_token(client: FlaskClient, stored: None, method: str, url: str) -> None:
    response = client.open(url, method=method)
    assert response.status_code in (200, 404), (url, response.json)


def test_the_scheme_is_case_insensitive(anonymous: FlaskClient, stored: None) -> None:
    response = anonymous.get("/api/v1/households", headers={"Authorization": f"bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200


def test_without_a_configured_token_nothing_but_ingest_opens(tmp_path, make_report) -> None:
    app = create_app({"DATABASE": str(tmp_path / "c.sqlite")})
    client = app.test_client()
    assert client.post("/api/v1/report", json=make_report()).status_code == 200
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    for token in ("", "None", "null"):
        response = client.get("/api/v1/households", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
    assert "disabled" in client.get("/api/v1/households").json["detail"]
    page = client.get("/")
    assert page.status_code == 401 and b"No admin token is configured" in page.data
    close_connections(app)


def test_short_tokens_are_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="ADMIN_TOKEN must be at least 8"):
        create_app({"DATABASE": str(tmp_path / "c.sqlite"), "ADMIN_TOKEN": "1234"})


def test_digit_token_from_the_environment_is_a_string(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COLLECTOR_DATABASE", str(tmp_path / "c.sqlite"))
    monkeypatch.setenv("COLLECTOR_ADMIN_TOKEN", "123456789012")  # Flask parses env values as JSON
    app = create_app()
    response = app.test_client().get("/api/v1/stats", headers={"Authorization": "Bearer 123456789012"})
    assert response.status_code == 200
    close_connections(app)


# -- the dashboard ------------------------------------------------------------------------------------


def _csrf(page: bytes) -> str:
    found = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1).decode()


@pytest.mark.parametrize("url", DASHBOARD)
def test_dashboard_without_session_is_401_with_the_login_form(
    anonymous: FlaskClient, stored: None, url: str
) -> None:
    response = anonymous.get(url)
    assert response.status_code == 401
    assert b'name="token"' in response.data and b"3c:22:fb" not in response.data
    # A bearer token is for the API; the dashboard takes only its session.
    assert anonymous.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 401


def test_login_form_sets_a_strict_httponly_session(anonymous: FlaskClient, stored: None) -> None:
    form = anonymous.get("/login?next=/households/h0003")
    assert form.status_code == 200
    wrong = anonymous.post(
        "/login", data={"token": "nope-nope-nope", "csrf_token": _csrf(form.data), "next": "/"}
    )
    assert wrong.status_code == 401
    no_csrf = anonymous.post("/login", data={"token": ADMIN_TOKEN, "next": "/"})
    assert no_csrf.status_code == 400
    response = anonymous.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": _csrf(form.data), "next": "/households/h0003"}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/households/h0003"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and ADMIN_TOKEN not in cookie
    assert anonymous.get("/households/h0003").status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_site(anonymous: FlaskClient, target: str) -> None:
    form = anonymous.get("/login")
    response = anonymous.post(
        "/login", data={"token": ADMIN_TOKEN, "csrf_token": _csrf(form.data), "next": target}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_token_in_the_url_once_becomes_a_cookie(anonymous: FlaskClient, stored: None) -> None:
    response = anonymous.get(f"/households/h0003?token={ADMIN_TOKEN}&x=1")
    assert response.status_code == 303 and response.headers["Location"] == "/households/h0003?x=1"
    assert anonymous.get("/households/h0003").status_code == 200
    assert anonymous.get("/?token=wrong-token-123").status_code == 401


def test_session_ends_when_the_token_changes(tmp_path, make_report) -> None:
    path = str(tmp_path / "c.sqlite")
    first = create_app({"DATABASE": path, "ADMIN_TOKEN": ADMIN_TOKEN})
    client = first.test_client()
    assert client.get(f"/?token={ADMIN_TOKEN}").status_code == 303
    cookie = client.get_cookie("collector_session")
    assert cookie is not None
    rotated = create_app({"DATABASE": path, "ADMIN_TOKEN": "another-token-0123456"})
    other = rotated.test_client()
    other.set_cookie("collector_session", cookie.value)
    assert other.get("/").status_code == 401
    same = create_app({"DATABASE": path, "ADMIN_TOKEN": ADMIN_TOKEN}).test_client()  # another worker
    same.set_cookie("collector_session", cookie.value)
    assert same.get("/").status_code == 200


def test_logout_needs_csrf_and_ends_the_session(anonymous: FlaskClient) -> None:
    anonymous.get(f"/?token={ADMIN_TOKEN}")
    page = anonymous.get("/")
    anonymous.post("/logout")  # no CSRF token: ignored
    assert anonymous.get("/").status_code == 200
    anonymous.post("/logout", data={"csrf_token": _csrf(page.data)})
    assert anonymous.get("/").status_code == 401


def test_erase_form_needs_the_csrf_token(anonymous: FlaskClient, stored: None, table_counts) -> None:
    anonymous.get(f"/?token={ADMIN_TOKEN}")
    before = table_counts()
    for data in ({"confirm": "yes"}, {"confirm": "yes", "csrf_token": "forged"}):
        response = anonymous.post("/households/h0003/erase", data=data)
        assert response.status_code == 400
    assert table_counts() == before
    page = anonymous.get("/households/h0003")
    unconfirmed = anonymous.post("/households/h0003/erase", data={"csrf_token": _csrf(page.data)})
    assert unconfirmed.status_code == 303 and table_counts() == before
    done = anonymous.post("/households/h0003/erase", data={"csrf_token": _csrf(page.data), "confirm": "yes"})
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert table_counts()["reports"] == 0
    assert b"Household h0003 erased" in anonymous.get("/").data


# -- escaping and headers -----------------------------------------------------------------------------


def test_hostile_values_are_escaped_everywhere(
    app: Flask, client: FlaskClient, anonymous: FlaskClient
) -> None:
    assert client.post("/api/v1/report", json=hostile_report()).status_code == 200
    anonymous.get(f"/?token={ADMIN_TOKEN}")
    for url in (
        "/households/h-hostile",
        "/search?q=script",
        "/search?q=img",
        "/households/h-hostile/devices/3c:22:fb:11:22:00",
    ):
        page = anonymous.get(url)
        assert page.status_code == 200, url
        assert b"<script>alert" not in page.data and b"<img" not in page.data, url
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page.data or b"&lt;img src=x" in page.data, url
    search = anonymous.get("/search?q=<script>")
    assert b"<script>" not in search.data and b"&lt;script&gt;" in search.data
    # The API returns the data as stored (JSON, never sniffed as HTML).
    assert client.get("/api/v1/households/h-hostile/networks").json["networks"][0]["ssid"] == HOSTILE_SSID
    exported = client.get("/api/v1/households/h-hostile/export").json
    assert HOSTILE_HOSTNAME in {d["hostname"] for d in exported["devices"]}


@pytest.mark.parametrize(
    "url", ["/", "/login", "/healthz", "/api/v1/households", "/api/v1/report", "/nowhere"]
)
def test_every_answer_carries_the_security_headers(client: FlaskClient, url: str) -> None:
    response = client.post(url, json={}) if url == "/api/v1/report" else client.get(url)
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_no_template_marks_data_safe() -> None:
    """Autoescaping only protects what is not declared safe: no template may use |safe or autoescape false."""
    from pathlib import Path

    import collector_mock

    for template in (Path(collector_mock.__file__).parent / "templates").glob("*.html"):
        text = template.read_text()
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, template.name
        assert "<script" not in text and not re.search(r"\son[a-z]+\s*=", text), template.name


def test_audit_log_names_the_token_by_fingerprint(client: FlaskClient, stored: None) -> None:
    entry = client.delete("/api/v1/households/h0003").json["erased"]
    assert entry["actor"] == f"token:{fingerprint(ADMIN_TOKEN)}"
    assert ADMIN_TOKEN not in str(client.get("/api/v1/erasures").json)
