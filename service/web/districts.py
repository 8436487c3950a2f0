"""Dashboard: an election's districts (选区) — add, edit, apply a plan from the district planner
(a units CSV, as `huanjie districts apply`), and the seats with the population per seat and each
district's deviation from the average (EL 24, 25: districts of one to three deputies, each
deputy representing about the same population). A township district of a 县乡两级 round names
its county district (workflow/commands/register_levels.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import INT_MAX, Admitted, Principal, Tx, services
from service.web.steps import page_context, run_form, show, whole
from workflow.commands import register_levels, voter_districts
from workflow.commands.district_plans import plan_from_text
from workflow.commands.districts import apply_districts
from workflow.errors import DomainError
from workflow.rules.units import decode
from workflow.store.voters import District

router = APIRouter(include_in_schema=False)
MAX_UNITS_FILE = 2 * 1024 * 1024


def seat_figures(rows: list[dict]) -> dict:
    """Population per seat of each district and its deviation from the election's average."""
    seated = [r for r in rows if r["seats"] and r["population"]]
    seats = sum(r["seats"] for r in seated)
    population = sum(r["population"] for r in seated)
    average = population / seats if seats else None
    for r in rows:
        per_seat = r["population"] / r["seats"] if r["seats"] and r["population"] else None
        r["per_seat"] = round(per_seat) if per_seat is not None else None
        r["deviation"] = f"{(per_seat - average) / average * 100:+.1f}%" if per_seat and average else None
    return {
        "seats": sum(r["seats"] or 0 for r in rows),
        "population": sum(r["population"] or 0 for r in rows),
        "average": round(average) if average else None,
        "voters": sum(r["voters"] for r in rows),
    }


@router.get("/elections/{election_id}/districts")
def districts_page(
    request: Request, session: Tx, election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)]
) -> Response:
    context = page_context(request, session, election_id)
    if isinstance(context, Response):
        return context
    caller, election = context
    rows = voter_districts.list_districts(session, election_id)
    parents = dict(
        session.execute(
            select(District.code, District.county_district_id).where(District.election_id == election_id)
        ).all()
    )
    county = register_levels.county_election(session, election)
    county_rows = voter_districts.list_districts(session, county.id) if county else []
    county_codes = (
        dict(
            session.execute(select(District.id, District.code).where(District.election_id == county.id)).all()
        )
        if county
        else {}
    )
    for r in rows:
        r["county_district"] = county_codes.get(parents.get(r["code"]))
    totals = seat_figures(rows)
    return show(
        request,
        "districts.html",
        election,
        f"/elections/{election_id}/districts",
        caller=caller,
        rows=rows,
        totals=totals,
        county=county,
        county_rows=county_rows,
    )


def _back(election_id: int) -> str:
    return f"/elections/{election_id}/districts"


@router.post("/elections/{election_id}/districts/add")
def add_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    seats: Annotated[str, Form(max_length=10)] = "",
    population: Annotated[str, Form(max_length=12)] = "",
    area: Annotated[str, Form(max_length=4000)] = "",
    county_district: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        district = register_levels.add_district(
            session,
            election_id,
            code=code,
            name=name,
            seats=whole(seats, "seats", "应选代表名额", required=False),
            population=whole(population, "population", "人口数", required=False),
            area=area,
            county_district=county_district,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已添加选区 {district.code} {district.name}"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/districts/{code}/edit")
def edit_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    code: Annotated[str, PathParam(max_length=40)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    seats: Annotated[str, Form(max_length=10)] = "",
    population: Annotated[str, Form(max_length=12)] = "",
    area: Annotated[str, Form(max_length=4000)] = "",
    county_district: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    def work(session: Session, caller: Principal) -> str:
        register_levels.edit_district(
            session,
            election_id,
            code,
            name=name,
            seats=whole(seats, "seats", "应选代表名额", required=False),
            population=whole(population, "population", "人口数", required=False),
            area=area,
            county_district=county_district or None,
            clock=services(request).clock,
            actor=caller.username,
        )
        return f"已修改选区 {code}"

    return run_form(request, election_id, csrf, _back(election_id), work)


@router.post("/elections/{election_id}/districts/apply")
def apply_form(
    request: Request,
    _admission: Admitted,
    election_id: Annotated[int, PathParam(ge=1, le=INT_MAX)],
    file: Annotated[UploadFile | None, File()] = None,
    csrf: Annotated[str, Form(max_length=100)] = "",
    seats: Annotated[str, Form(max_length=10)] = "",
    tolerance: Annotated[str, Form(max_length=10)] = "0.15",
) -> Response:
    data = file.file.read(MAX_UNITS_FILE + 1) if file is not None and file.filename else b""

    def work(session: Session, caller: Principal) -> str:
        if not data:
            raise DomainError("E_FILE_MISSING", "请选择选区人口表或单元表（CSV）", "file")
        if len(data) > MAX_UNITS_FILE:
            raise DomainError("E_FILE_TOO_LARGE", "文件超过 2 MB", "file")
        total = whole(seats, "seats", "应选代表总名额")
        plan = plan_from_text(decode(data), total, tolerance.strip() or "0.15")
        payload = apply_districts(
            session,
            election_id,
            plan["districts"],
            clock=services(request).clock,
            actor=caller.username,
            method=plan["method"],
        )
        return (
            f"已保存 {len(payload['districts'])} 个选区、{payload['seats']} 名代表"
            f"（新增 {len(payload['added'])}，修改 {len(payload['changed'])}，删除 {len(payload['removed'])}）"
        )

    return run_form(request, election_id, csrf, _back(election_id), work)
