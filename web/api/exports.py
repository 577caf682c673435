"""Exports of the registers staff keep (R19-R23): GET /exports/{register}.xlsx or .csv, with
identity numbers and phones masked unless the safety officer exports (R20). The panel's
download links use the same writers (``export_response``)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Response
from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import Field

from web.api.models import In
from web.api.registry import api_route
from web.auth import current_actor
from web.context import db_session, sitegate
from web.errors import error_response
from web.i18n import translate
from web.permissions import can_see_identity
from zones.errors import NotFound, Problem
from zones.services.reception_registers import Table, register_table

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


class ExportQuery(In):
    month: str | None = Field(None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM, for stats")


def xlsx_bytes(table: Table) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = translate(table.title)[:31]  # Excel's limit on sheet names
    sheet.append([translate(h) for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([translate(h) for h in table.headers])
    writer.writerows(table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM makes Excel read UTF-8


def export_response(register: str, fmt: str, month: str | None) -> Response:
    """The register as a download for the signed-in caller; 404 for an unknown register or
    format, 403 for the statistics without ``stats.read`` (R19: for the managers)."""
    actor = current_actor()
    assert actor is not None
    if fmt not in FORMATS:
        raise NotFound(Problem("no-such", what="format", id=fmt))
    if register == "stats" and not actor.can("stats.read"):
        return error_response(403, "the statistics are for the managers (R19)", error="forbidden")
    site = sitegate()
    month = month or datetime.now(ZoneInfo(site.policy.timezone)).strftime("%Y-%m")
    table = register_table(
        db_session(),
        register,
        clear=can_see_identity(actor.role),
        timezone=site.policy.timezone,
        month=month,
        calendar=site.config.reception.calendar(),
    )
    body = xlsx_bytes(table) if fmt == "xlsx" else csv_bytes(table)
    name = f"{register}-{month}.{fmt}" if register == "stats" else f"{register}.{fmt}"
    return Response(body, mimetype=FORMATS[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@api_route("GET", "/exports/<register>.<fmt>", permission="exports.read", query=ExportQuery, errors=(404,))
def export_register(register: str, fmt: str, query: ExportQuery) -> Response:
    """A register (visitors, incidents, complaints, follow-ups, breaches, stats) as .xlsx or .csv (R19-R23)."""
    return export_response(register, fmt, query.month)
