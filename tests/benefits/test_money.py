"""Rupiah formatting: Rp 1.234.567."""

from __future__ import annotations

import pytest

from clients.benefits.money import parse_rupiah, rupiah, share


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "Rp 0"),
        (7, "Rp 7"),
        (999, "Rp 999"),
        (1_000, "Rp 1.000"),
        (1_234_567, "Rp 1.234.567"),
        (1_000_000_000, "Rp 1.000.000.000"),
        (-45_500, "-Rp 45.500"),
    ],
)
def test_rupiah(amount, text):
    assert rupiah(amount) == text
    assert parse_rupiah(text) == amount


@pytest.mark.parametrize(
    ("wage", "basis_points", "expected"),
    [
        (5_000_000, 370, 185_000),
        (5_000_000, 24, 12_000),
        (4_567_891, 200, 91_358),  # 91_357.82 rounds up
        (4_567_825, 24, 10_963),  # 10_962.78 rounds up
        (1_250, 200, 25),
        (1_225, 200, 25),  # 24.5 rounds half up
    ],
)
def test_share_rounds_half_up_to_whole_rupiah(wage, basis_points, expected):
    assert share(wage, basis_points) == expected
