"""Helpers for API tests: the error a JSON answer carries, and how many rows each table holds."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def error_of(response) -> dict:
    assert response.headers["Content-Type"] == "application/json"
    return response.get_json()["error"]
