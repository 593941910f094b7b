"""``/mydata``: everything stored about a person, as one JSON document."""

from __future__ import annotations

import json
from datetime import datetime

from conversations import Case


def my_data(case: Case, scheduled: dict[str, datetime], exported_at: datetime) -> bytes:
    export = {
        "exported_at": exported_at.isoformat(),
        "case": case.model_dump(mode="json"),
        "scheduled": {key: due.isoformat() for key, due in scheduled.items()},
    }
    return json.dumps(export, indent=2, ensure_ascii=False).encode("utf-8")
