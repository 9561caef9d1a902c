"""JSON serialisation shared by the CLI, the service and the reports.

Stable key order as given, UTF-8 text kept, NaN/inf as ``null``, numpy and pandas values and
dates converted; objects with ``to_dict()`` serialise through it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        v = float(o)
        return None if math.isnan(v) else v
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, (datetime, date, pd.Timestamp)):
        return o.isoformat()
    if isinstance(o, Path):
        return str(o)
    if isinstance(o, pd.DataFrame):
        return json.loads(o.to_json(orient="records", force_ascii=False))
    if isinstance(o, Enum):
        return o.value
    if hasattr(o, "to_dict"):
        return o.to_dict()
    if hasattr(o, "item"):  # numpy/pandas scalars of other kinds
        return o.item()
    return str(o)


def _clean(o: Any) -> Any:
    if isinstance(o, float) and (math.isnan(o) or math.isinf(o)):
        return None
    if isinstance(o, Mapping):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic) and not isinstance(o, (np.str_, np.bytes_)):
        return _clean(o.item())
    return o


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """Serialise with stable key order, UTF-8 text and NaN as null."""
    return json.dumps(_clean(data), ensure_ascii=False, indent=indent, default=_default)




def json_safe(data: Any) -> Any:
    """``data`` as plain JSON values (what :func:`to_json` writes, read back)."""
    return json.loads(to_json(data, indent=None))


def frame_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records of a frame (dates and timestamps as ISO text, NaN as null)."""
    return json.loads(df.to_json(orient="records", date_format="iso", force_ascii=False))  # type: ignore[no-any-return]
