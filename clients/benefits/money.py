"""Rupiah amounts as Indonesians write them: Rp 1.234.567 (whole rupiah, dots group)."""

from __future__ import annotations


def rupiah(amount: int) -> str:
    """Format whole rupiah: rupiah(1234567) == 'Rp 1.234.567'."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def parse_rupiah(text: str) -> int:
    """The inverse of `rupiah`, for reading amounts back from statements."""
    digits = text.replace("Rp", "").replace(".", "").replace(" ", "")
    return int(digits)


def share(wage: int, basis_points: int) -> int:
    """A rate's share of a wage in whole rupiah, rounded half up, in integer arithmetic."""
    return (wage * basis_points + 5_000) // 10_000
