"""The server-side SVG chart: accessible, escaped, scaled to a round top."""

from __future__ import annotations

import re
from datetime import date

import pytest

from clients.benefits.chart import HEIGHT, _ceiling, balance_chart


@pytest.mark.parametrize(
    ("value", "top"),
    [(1, 1), (99, 99), (101, 110), (24_110_338, 25_000_000), (50_000_000, 50_000_000)],
)
def test_the_axis_top_is_the_value_rounded_up_to_two_digits(value, top):
    assert _ceiling(value) == top


def test_chart_draws_every_month_and_labels_years_and_amounts():
    points = [(date(2024, 11, 1), 0), (date(2024, 12, 1), 100_000), (date(2025, 1, 1), 240_000)]
    svg = str(balance_chart(points, "Saldo <JHT>", 'a "b" & c'))
    assert '<title id="chart-title">Saldo &lt;JHT&gt;</title>' in svg
    assert "a &#34;b&#34; &amp; c" in svg
    (line,) = re.findall(r'points="([^"]+)"', svg)
    coordinates = [tuple(map(float, pair.split(","))) for pair in line.split()]
    assert len(coordinates) == 3
    assert coordinates[-1][1] == 16.0  # the highest balance touches the top
    assert coordinates[0][1] == HEIGHT - 36  # zero sits on the axis
    assert ">2025</text>" in svg and ">Rp 240.000</text>" in svg and ">Rp 120.000</text>" in svg


def test_an_empty_ledger_draws_an_empty_chart():
    assert 'points=""' in str(balance_chart([], "t", "d"))
