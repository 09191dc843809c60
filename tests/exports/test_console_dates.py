"""The export page's date pickers: days up to today, and bad dates refused next to their input
with a message that says what is wrong; nothing is exported then."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from tests.exports.support import fill

GIVE = "Give an ISO 8601 date or date-time, e.g. 2026-03-01 or 2026-03-01T09:00Z."


@pytest.fixture
def analyst(signed_in, lab):
    signed_in("analyst", "analyst@lab.example")


def test_the_dates_are_date_pickers_up_to_today(client, analyst):
    html = client.get("/admin/sites/lab/export").get_data(as_text=True)
    assert (
        '<input aria-describedby="updated_since-hint" id="updated_since" max="2026-03-02" '
        'name="updated_since" type="date" value="">'
    ) in html
    assert (
        '<input aria-describedby="since-hint" id="since" max="2026-03-02" name="since" '
        'type="date" value="">'
    ) in html
    assert (
        '<p class="hint" id="since-hint">A day (UTC), from its start. Empty: no limit.</p>' in html
    )
    assert html.count(" data-export>") == 2
    assert html.count('<p class="export-progress muted" role="status"></p>') == 2


@pytest.mark.parametrize(
    ("what", "name", "value", "message"),
    [
        ("contacts", "updated_since", "2026-02-30", "2026-02-30 is not a day of the calendar."),
        ("contacts", "updated_since", "2026-13-01", "2026-13-01 is not a day of the calendar."),
        ("contacts", "updated_since", "03/01/2026", GIVE),
        ("contacts", "updated_since", "yesterday", GIVE),
        ("submissions", "since", "0000-01-01", "0000-01-01 is not a day of the calendar."),
        ("submissions", "since", "2026-3-1", GIVE),
    ],
)
def test_a_bad_date_is_refused_next_to_its_input(client, analyst, what, name, value, message):
    fill(client, {"email": "w@lab.example"})
    response = client.get(f"/admin/sites/lab/export/{what}", query_string={name: value})
    assert response.status_code == 422
    assert response.content_type == "text/html; charset=utf-8"
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="{name}-error">{message}</p>' in html
    assert "Nothing was exported: correct the marked inputs." in html
    assert "w@lab.example" not in html


def test_a_picked_day_filters_from_its_start(client, analyst, clock):
    fill(client, {"email": "old@lab.example"})
    clock.advance(days=2)
    fill(client, {"email": "new@lab.example"})
    response = client.get(
        "/admin/sites/lab/export/contacts", query_string={"updated_since": "2026-03-04"}
    )
    assert response.status_code == 200
    frame = pd.read_csv(io.BytesIO(response.get_data()), dtype=str, keep_default_na=False)
    assert frame["email"].tolist() == ["new@lab.example"]
    history = client.get(
        "/admin/sites/lab/export/submissions", query_string={"since": "2026-03-02"}
    )
    frame = pd.read_csv(io.BytesIO(history.get_data()), dtype=str, keep_default_na=False)
    assert sorted(set(frame["email"])) == ["new@lab.example", "old@lab.example"]
