"""The read side: read models (projections into tables), their runners, rebuilds and paging.

A service declares `ReadModel`s (kernel.readside.projection); its application opens each one's
`TableView` in the service's own database (`FederationApplication.read_model`); runners keep them
up to date (`ProjectionRunner`), in the service's worker and in `muni up`; queries read the
tables, never aggregates. See the README's "Read side" section for freshness in each mode.
"""

from kernel.readside.projection import ReadModel
from kernel.readside.rebuild import Rebuilt, rebuild
from kernel.readside.runner import NotCaughtUp, ProjectionRunner, Reading
from kernel.readside.tables import Add, Column, Delete, Op, Row, Table, Update, Upsert
from kernel.readside.view import PositionMoved, TableView

__all__ = [
    "Add",
    "Column",
    "Delete",
    "NotCaughtUp",
    "Op",
    "PositionMoved",
    "ProjectionRunner",
    "ReadModel",
    "Reading",
    "Rebuilt",
    "Row",
    "Table",
    "TableView",
    "Update",
    "Upsert",
    "rebuild",
]
