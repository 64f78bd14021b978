"""The OpenAPI document says what the app does: the same routes and methods, and the report's schema."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from collector_mock import openapi_document
from collector_mock.schema import Report

_METHODS = {"get", "post", "put", "patch", "delete"}


def _documented() -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in openapi_document()["paths"].items()
        for method in item
        if method in _METHODS
    }


def _served(app: Flask) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule == "/healthz"):
            continue  # the dashboard's pages are HTML for people, not API
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        routes |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def test_every_documented_route_exists_and_every_route_is_documented(app: Flask) -> None:
    assert _documented() == _served(app)


def test_path_parameters_are_declared(app: Flask) -> None:
    for path, item in openapi_document()["paths"].items():
        names = set(re.findall(r"{([a-z_]+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (method, path)


def test_security_matches_what_the_app_enforces(anonymous: FlaskClient) -> None:
    """Operations that declare the bearer token answer 401 without it; the others do not ask for it."""
    for path, item in openapi_document()["paths"].items():
        url = re.sub(r"{[a-z_]+}", "1", path)
        for method, operation in item.items():
            status = anonymous.open(url, method=method.upper()).status_code
            assert (status == 401) == ("security" in operation), (method, path, status)


def test_report_schema_is_the_validators(client: FlaskClient) -> None:
    served = client.get("/api/v1/openapi.json").json
    assert served == openapi_document()
    assert served["openapi"].startswith("3.1")
    expected = Report.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    for name, schema in expected.pop("$defs").items():
        assert served["components"]["schemas"][name] == schema
    assert served["components"]["schemas"]["Report"] == expected


def test_document_loads_as_openapi() -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(openapi_document())
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == len(_documented())
