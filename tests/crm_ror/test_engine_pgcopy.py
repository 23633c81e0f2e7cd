"""The binary COPY codec of the profile recompute (no database here; the recompute's tests run it
against PostgreSQL)."""

import numpy as np
import pytest

from odoo.addons.crm_ror.engine import pgcopy


def test_encode_is_postgresql_binary_copy():
    """Byte for byte what PostgreSQL documents: header, per row the field count, then length and
    big-endian value of each field, the trailer."""
    data = pgcopy.encode([("id", "int4"), ("amount", "float8")], {"id": [7], "amount": [1.5]})
    assert data == (
        b"PGCOPY\n\xff\r\n\x00" + bytes(8)
        + b"\x00\x02" + b"\x00\x00\x00\x04" + b"\x00\x00\x00\x07"
        + b"\x00\x00\x00\x08" + np.array([1.5], ">f8").tobytes()
        + b"\xff\xff"
    )  # fmt: skip


def test_round_trip_keeps_every_bit():
    rng = np.random.default_rng(1)
    values = {
        "a": rng.normal(size=1000),
        "b": np.where(rng.random(1000) < 0.3, np.nan, rng.normal(size=1000)),
    }
    values["a"][:3] = [0.1 + 0.2, -0.0, 1e308]
    decoded = pgcopy.decode(pgcopy.encode([("a", "float8"), ("b", "float8")], values), ["a", "b"])
    for name, column in values.items():
        assert decoded[name].tobytes() == np.asarray(column, dtype=float).tobytes()


def test_empty_and_malformed_data():
    assert pgcopy.decode(pgcopy.encode([("a", "float8")], {"a": []}), ["a"])["a"].size == 0
    with pytest.raises(ValueError, match="same length"):
        pgcopy.encode([("a", "float8"), ("b", "float8")], {"a": [1.0], "b": []})
    with pytest.raises(ValueError, match="not the data"):
        pgcopy.decode(b"a\tb\n", ["a", "b"])
    with pytest.raises(ValueError, match="not of the columns"):
        pgcopy.decode(pgcopy.encode([("a", "float8")], {"a": [1.0, 2.0]}), ["a", "b"])
    # a NULL: length -1 and no value, so the row is shorter than a row of float8 values
    null_row = pgcopy.HEADER + b"\x00\x01" + b"\xff\xff\xff\xff" + bytes(8) + pgcopy.TRAILER
    with pytest.raises(ValueError, match="NULL"):
        pgcopy.decode(null_row, ["a"])
