"""The OpenAPI 3.1 document of the collector's API, written as data and served at ``/api/v1/openapi.json``.

The report's schema comes from the pydantic model that validates uploads, so the two cannot drift; the
rest is written out here. A test checks that every path and method documented here is a route of the
app and the reverse, and the fuzzer (schemathesis) checks the responses against the schemas.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from flask import Blueprint

from .codec import ENCODING_HEADER
from .reads import MAX_LIMIT, MAX_OFFSET
from .schema import Report

__all__ = ["bp", "openapi_document"]

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_BEARER = [{"adminToken": []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    """A closed object schema; every property is required unless ``required`` says otherwise."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


_INT = {"type": "integer"}
_COUNT = {"type": "integer", "minimum": 0}
_NUM = {"type": "number"}
_STR = {"type": "string"}
_NULL_STR = {"type": ["string", "null"]}
_NULL_NUM = {"type": ["number", "null"]}
_MAC_KIND = {"type": "string", "enum": ["universal", "randomized", "multicast", "not_a_mac"]}
_DEVICE_FIELDS = {  # a device as the read API lists it; the detail view adds its household and RTTs
    "mac": _STR,
    "vendor": _NULL_STR,
    "mac_kind": _MAC_KIND,
    "ip": _STR,
    "hostname": _NULL_STR,
    "first_seen": _NUM,
    "last_seen": _NUM,
    "sightings": _COUNT,
}

_LAYER = "(json|gzip|base64|aes)"
_ENCODING_PATTERN = f"^{_LAYER}(\\+{_LAYER}){{0,7}}$"  # collector_mock.codec: up to 8 layers
_ID_PARAM = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/]+$"}


def _path_param(
    name: str, description: str, example: Any, schema: dict[str, Any] | None = None
) -> dict[str, Any]:
    # The examples are the simulator's ids, so generated requests (the fuzzer's) also reach stored data.
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema or _ID_PARAM,
        "example": example,
    }


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_HOUSEHOLD = _path_param("household", "A household id (the report's tv.home).", "h0001")
_TV = _path_param("tv", "A TV id (the report's tv.id).", "h0001-tv1")
_PAGE = [
    _query("limit", "Page size.", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}),
    _query("offset", "Rows to skip.", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
]


def _admin(
    summary: str,
    ok: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    not_found: bool = True,
    bad_request: bool = True,
) -> dict[str, Any]:
    """An operation that needs the admin token."""
    responses: dict[str, Any] = {"200": ok}
    if bad_request:
        responses["400"] = _error("A query argument is invalid.")
    responses["401"] = _error("The admin token is missing or wrong.")
    if not_found:
        responses["404"] = _error("The collector holds nothing about it.")
    responses["503"] = _error("The database is busy; retry later.")
    operation: dict[str, Any] = {"summary": summary, "security": _BEARER, "responses": responses}
    if parameters:
        operation["parameters"] = parameters
    return operation


def _schemas() -> dict[str, Any]:
    report = Report.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = report.pop("$defs")
    schemas["Report"] = report
    page = {"total": _COUNT, "limit": _INT, "offset": _INT}
    ours = _response_schemas(page)
    clash = set(ours) & set(schemas)
    assert not clash, f"response schema names clash with the report's: {clash}"
    schemas.update(ours)
    return schemas


def _response_schemas(page: dict[str, Any]) -> dict[str, Any]:
    report_summary = {
        "id": _INT,
        "household": _STR,
        "tv_id": _STR,
        "tv_vendor": _STR,
        "tv_model": _STR,
        "tv_mac": _STR,
        "tv_ip": _STR,
        "sdk_name": _STR,
        "sdk_version": _STR,
        "cycle": _INT,
        "collected_at": _NUM,
        "received_at": _NUM,
        "consent": _STR,
        "encoding": _STR,
        "remote_addr": _NULL_STR,
        "body_bytes": _INT,
    }
    counts = {"reports": _COUNT, "hosts": _COUNT, "wifi": _COUNT, "devices": _COUNT, "networks": _COUNT}
    return {
        "Error": {
            "type": "object",
            "properties": {"error": _STR, "detail": _STR, "errors": {"type": "array"}},
            "required": ["error", "detail"],
        },
        "Accepted": _obj(
            {"status": {"const": "ok"}, "receipt": {"type": "string", "pattern": "^[0-9a-f]{16}$"}}
        ),
        "Health": _obj({"status": {"const": "ok"}}),
        "Stats": _obj(
            {
                "households": _COUNT,
                "tvs": _COUNT,
                "reports": _COUNT,
                "bytes_received": _COUNT,
                "devices": _COUNT,
                "networks": _COUNT,
                "reports_per_hour": {"type": "array", "items": _obj({"hour": _INT, "reports": _COUNT})},
            }
        ),
        "HouseholdRow": _obj(
            {
                "household": _STR,
                "reports": _COUNT,
                "tvs": _COUNT,
                "devices": _COUNT,
                "networks": _COUNT,
                "first_received": _NUM,
                "last_received": _NUM,
                "bytes_received": _COUNT,
            }
        ),
        "HouseholdPage": _obj({"households": {"type": "array", "items": _ref("HouseholdRow")}, **page}),
        "TvSummary": _obj(
            {
                "tv_id": _STR,
                "vendor": _STR,
                "model": _STR,
                "mac": _STR,
                "ip": _STR,
                "sdk_name": _STR,
                "sdk_version": _STR,
                "consent": _STR,
                "reports": _COUNT,
                "first_received": _NUM,
                "last_received": _NUM,
            }
        ),
        "Household": _obj(
            {
                "household": _STR,
                "reports": _COUNT,
                "first_received": _NUM,
                "last_received": _NUM,
                "bytes_received": _COUNT,
                "host_entries": _COUNT,
                "wifi_entries": _COUNT,
                "devices": _COUNT,
                "networks": _COUNT,
                "tvs": {"type": "array", "items": _ref("TvSummary")},
            }
        ),
        "Device": _obj(_DEVICE_FIELDS),
        "DeviceDetail": _obj(
            {
                "household": _STR,
                **_DEVICE_FIELDS,
                "rtt_history": {
                    "type": "array",
                    "items": _obj(
                        {
                            "report_id": _INT,
                            "tv_id": _STR,
                            "received_at": _NUM,
                            "ip": _STR,
                            "rtt_ms": _NULL_NUM,
                        }
                    ),
                },
            }
        ),
        "Network": _obj(
            {
                "bssid": _STR,
                "ssid": _STR,
                "vendor": _NULL_STR,
                "mac_kind": _MAC_KIND,
                "first_seen": _NUM,
                "last_seen": _NUM,
                "sightings": _COUNT,
            }
        ),
        "Devices": _obj({"household": _STR, "devices": {"type": "array", "items": _ref("Device")}}),
        "Networks": _obj({"household": _STR, "networks": {"type": "array", "items": _ref("Network")}}),
        "ReportSummary": _obj({**report_summary, "host_count": _COUNT, "wifi_count": _COUNT}),
        "StoredReport": _obj(
            {
                **report_summary,
                "hosts": {"type": "array", "items": _ref("Host")},
                "wifi": {"type": "array", "items": _ref("Wifi")},
            }
        ),
        "ReportPage": _obj({"reports": {"type": "array", "items": _ref("ReportSummary")}, **page}),
        "Timeline": _obj(
            {
                "tv": _STR,
                "households": {"type": "array", "items": _STR},
                "reports": {"type": "array", "items": _ref("ReportSummary")},
                **page,
            }
        ),
        "HouseholdExport": _obj(
            {
                "household": _ref("Household"),
                "devices": {"type": "array", "items": _ref("Device")},
                "networks": {"type": "array", "items": _ref("Network")},
                "reports": {"type": "array", "items": _ref("StoredReport")},
            }
        ),
        "SearchResult": _obj(
            {
                "q": _STR,
                "devices": {
                    "type": "array",
                    "items": _obj(
                        {
                            "household": _STR,
                            "mac": _STR,
                            "hostname": _NULL_STR,
                            "ip": _STR,
                            "last_seen": _NUM,
                            "vendor": _NULL_STR,
                            "mac_kind": _MAC_KIND,
                        }
                    ),
                },
                "networks": {
                    "type": "array",
                    "items": _obj(
                        {
                            "household": _STR,
                            "bssid": _STR,
                            "ssid": _STR,
                            "last_seen": _NUM,
                            "vendor": _NULL_STR,
                            "mac_kind": _MAC_KIND,
                        }
                    ),
                },
                "tvs": {"type": "array", "items": _obj({"household": _STR, "tv_id": _STR, "mac": _STR})},
            }
        ),
        "Erasure": _obj(
            {
                "id": _INT,
                "erased_at": _NUM,
                "actor": _STR,
                "subject_kind": {"type": "string", "enum": ["household", "tv"]},
                "subject": _STR,
                **counts,
            }
        ),
        "Erased": _obj({"erased": _ref("Erasure")}),
        "ErasurePage": _obj({"erasures": {"type": "array", "items": _ref("Erasure")}, **page}),
        "ErasureCheck": _obj(
            {
                "subject_kind": {"type": "string", "enum": ["household", "tv"]},
                "subject": _STR,
                "clean": {"type": "boolean"},
                "residual_rows": _obj(counts),
                "erasures": {"type": "array", "items": _ref("Erasure")},
            }
        ),
    }


def _paths() -> dict[str, Any]:
    ingest_errors = {
        "400": _error("The body cannot be decoded or decrypted, or is not JSON."),
        "413": _error("The body is larger than the limit."),
        "415": _error("Content-Type is neither application/json nor application/octet-stream."),
        "422": _error("The report does not match the schema; ``errors`` names each field."),
        "503": _error("The database is busy; nothing was stored; retry later."),
    }
    return {
        "/healthz": {
            "get": {
                "summary": "Liveness.",
                "responses": {"200": _json(_ref("Health"), "The collector is up.")},
            }
        },
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This document.",
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
            }
        },
        "/api/v1/report": {
            "post": {
                "summary": "Upload one report (open, as the real collector's was). 200 only once it is committed.",
                "parameters": [
                    {
                        "name": ENCODING_HEADER,
                        "in": "header",
                        "required": False,
                        "description": "Encoding chain applied by the SDK, e.g. gzip+aes (default json).",
                        "schema": {"type": "string", "default": "json", "pattern": _ENCODING_PATTERN},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": _ref("Report")},
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    },
                },
                "responses": {
                    "200": {
                        **_json(
                            _ref("Accepted"), "Stored and committed; the receipt is a digest of the body."
                        ),
                        "headers": {
                            "X-Report-Id": {
                                "description": "The stored report's id.",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    **ingest_errors,
                },
            }
        },
        "/api/v1/stats": {
            "get": _admin(
                "Totals and reports per hour.",
                _json(_ref("Stats"), "Totals."),
                not_found=False,
                bad_request=False,
            )
        },
        "/api/v1/households": {
            "get": _admin(
                "Households, by id.",
                _json(_ref("HouseholdPage"), "A page of households."),
                parameters=_PAGE,
                not_found=False,
            )
        },
        "/api/v1/households/{household}": {
            "get": _admin(
                "One household's summary.",
                _json(_ref("Household"), "The summary."),
                parameters=[_HOUSEHOLD],
                bad_request=False,
            ),
            "delete": _admin(
                "Erase everything about a household (audited).",
                _json(_ref("Erased"), "Erased; the audit entry."),
                parameters=[_HOUSEHOLD],
                bad_request=False,
            ),
        },
        "/api/v1/households/{household}/devices": {
            "get": _admin(
                "The devices known in a household, with vendors.",
                _json(_ref("Devices"), "Devices by MAC."),
                parameters=[_HOUSEHOLD],
                bad_request=False,
            )
        },
        "/api/v1/households/{household}/devices/{mac}": {
            "get": _admin(
                "One device with its IP and RTT at every sighting.",
                _json(_ref("DeviceDetail"), "The device."),
                parameters=[
                    _HOUSEHOLD,
                    _path_param(
                        "mac",
                        "The device's MAC as reported.",
                        "3c:22:fb:11:22:00",
                        {"type": "string", "minLength": 1},
                    ),
                ],
                bad_request=False,
            )
        },
        "/api/v1/households/{household}/networks": {
            "get": _admin(
                "The Wi-Fi neighbourhood heard from a household.",
                _json(_ref("Networks"), "Networks by BSSID."),
                parameters=[_HOUSEHOLD],
                bad_request=False,
            )
        },
        "/api/v1/households/{household}/export": {
            "get": _admin(
                "Everything about a household, as JSON or CSV.",
                {
                    "description": "The export.",
                    "content": {
                        "application/json": {"schema": _ref("HouseholdExport")},
                        "text/csv": {"schema": {"type": "string"}},
                    },
                },
                parameters=[
                    _HOUSEHOLD,
                    _query("format", "json (default) or csv.", {"type": "string", "enum": ["json", "csv"]}),
                ],
            )
        },
        "/api/v1/households/{household}/erasure-check": {
            "get": _admin(
                "Rows still holding data about a household (all zero after erasure).",
                _json(_ref("ErasureCheck"), "The check."),
                parameters=[_HOUSEHOLD],
                not_found=False,
                bad_request=False,
            )
        },
        "/api/v1/reports": {
            "get": _admin(
                "Reports, newest first.",
                _json(_ref("ReportPage"), "A page of reports."),
                parameters=[
                    _query("household", "Only this household's.", _STR),
                    _query("tv", "Only this TV's.", _STR),
                    *_PAGE,
                ],
                not_found=False,
            )
        },
        "/api/v1/reports/{report_id}": {
            "get": _admin(
                "One report with its entries as sent.",
                _json(_ref("StoredReport"), "The report."),
                parameters=[_path_param("report_id", "A report id.", 1, {"type": "integer", "minimum": 0})],
                bad_request=False,
            )
        },
        "/api/v1/tvs/{tv}": {
            "delete": _admin(
                "Erase one TV's reports; its households' derived data is rebuilt without them (audited).",
                _json(_ref("Erased"), "Erased; the audit entry."),
                parameters=[_TV],
                bad_request=False,
            )
        },
        "/api/v1/tvs/{tv}/timeline": {
            "get": _admin(
                "One TV's reports in the order received.",
                _json(_ref("Timeline"), "A page of the timeline."),
                parameters=[_TV, *_PAGE],
            )
        },
        "/api/v1/tvs/{tv}/erasure-check": {
            "get": _admin(
                "Rows still holding data about a TV (all zero after erasure).",
                _json(_ref("ErasureCheck"), "The check."),
                parameters=[_TV],
                not_found=False,
                bad_request=False,
            )
        },
        "/api/v1/search": {
            "get": _admin(
                "Devices, networks and TVs whose MAC, hostname, IP, SSID or id contains q.",
                _json(_ref("SearchResult"), "Matches."),
                parameters=[
                    _query(
                        "q",
                        "Text to find.",
                        {"type": "string", "minLength": 1, "maxLength": 128},
                        required=True,
                    ),
                    _PAGE[0],
                ],
                not_found=False,
            )
        },
        "/api/v1/erasures": {
            "get": _admin(
                "The erasure audit log, newest first.",
                _json(_ref("ErasurePage"), "A page of the log."),
                parameters=_PAGE,
                not_found=False,
            )
        },
    }


@cache
def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "smarttv-testbed mock collector",
            "version": "1",
            "description": "The data company's side of the testbed: ingest of the SDK's reports (open), and "
            "reads, export and erasure of what it learned (admin token).",
        },
        "servers": [{"url": "/"}],
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document() -> dict[str, Any]:
    """The document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())


@bp.get("/openapi.json")
def serve_openapi() -> dict[str, Any]:
    """The OpenAPI document (public: it describes the API, not the data)."""
    return _document()
