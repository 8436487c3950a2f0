"""A district plan from a units file's text, as `huanjie districts apply` and the dashboard's
districts page read it: a file of code,name,population is apportioned (each row a district);
one that also has parent,neighbours is divided into districts (EL 24, 25)."""

from __future__ import annotations

from workflow.commands.districts import plan_from_units
from workflow.errors import DomainError
from workflow.rules.units import read_units


def plan_from_text(text: str, seats: int, tolerance: str = "0.15") -> dict:
    graph = True
    try:
        units = read_units(text, with_graph=True)
    except DomainError as error:
        if error.code != "E_CSV_MISSING_COLUMN" or error.field not in ("parent", "neighbours"):
            raise
        graph = False  # no parent/neighbours columns: each row is a district
        units = read_units(text)
    return plan_from_units(units, seats, graph=graph, tolerance=tolerance)
