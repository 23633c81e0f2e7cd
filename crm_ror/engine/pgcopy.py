"""PostgreSQL's binary ``COPY`` format for columns of fixed width, to and from numpy arrays.

The profile recompute moves a chunk of customers between the database and numpy with it: one
``COPY`` of bytes that numpy reads and writes whole, instead of a Python object (or a text) per
figure. Rows of fixed-width fields only: every value is present, undefined figures travel as NaN
(the SQL maps them from and to NULL).
"""

import numpy as np

# The file header: signature, flags, header-extension length (see PostgreSQL's COPY documentation).
HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"
# Binary form of the column types used: big-endian, as PostgreSQL sends them.
TYPES = {"float8": ">f8", "int4": ">i4"}


def _row_type(columns):
    """numpy dtype of one row: the field count, then each field's length and value."""
    fields = [("count", ">i2")]
    for name, kind in columns:
        fields += [(f"{name}.length", ">i4"), (name, TYPES[kind])]
    return np.dtype(fields)


def encode(columns, values):
    """The ``COPY ... FROM STDIN (FORMAT binary)`` data of rows made of aligned arrays.

    ``columns``: ``[(name, type)]`` in the table's column order, the types keys of ``TYPES``;
    ``values``: {name: array}, all of one length.
    """
    sizes = {len(values[name]) for name, _kind in columns}
    if len(sizes) > 1:
        raise ValueError("all columns must have the same length")
    row_type = _row_type(columns)
    rows = np.empty(sizes.pop() if sizes else 0, dtype=row_type)
    rows["count"] = len(columns)
    for name, kind in columns:
        rows[f"{name}.length"] = np.dtype(TYPES[kind]).itemsize
        rows[name] = values[name]
    return HEADER + rows.tobytes() + TRAILER


def decode(data, names):
    """{name: float64 array} of the ``COPY (...) TO STDOUT (FORMAT binary)`` data of a query whose
    columns are ``names``, all float8 and none NULL."""
    if not data.startswith(HEADER) or not data.endswith(TRAILER):
        raise ValueError("not the data of a binary COPY")
    row_type = _row_type([(name, "float8") for name in names])
    rows = np.frombuffer(
        data, dtype=row_type, offset=len(HEADER), count=(len(data) - len(HEADER) - 2) // row_type.itemsize
    )
    if len(HEADER) + rows.nbytes + len(TRAILER) != len(data):
        raise ValueError("the rows are not of the columns given")
    if rows.size and (
        (rows["count"] != len(names)).any() or any((rows[f"{name}.length"] != 8).any() for name in names)
    ):
        raise ValueError("a value is NULL or not a float8: the query must give every column as float8")
    return {name: rows[name].astype(float) for name in names}
