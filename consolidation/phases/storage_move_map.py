"""The move map a reviewer signs off: every copy and every rewrite the storage plan makes, as CSV and JSON.

The same database gives the same bytes: rows are sorted, no time or run id is written, and a
source's sha256 is the inventory's or, for an object not yet inventoried, its bytes hashed now.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from consolidation.phases.storage_transfer import Key, StoragePlan, Transfer

MOVES_FIELDS = ("source_bucket", "source_key", "dest_bucket", "dest_key", "size", "sha256")
REWRITES_FIELDS = ("table", "id", "column", "json_path", "old_reference", "new_reference")
# The files `storage plan --out DIR` writes besides the steps.
MOVES_CSV, REWRITES_CSV, MAP_JSON = "moves.csv", "rewrites.csv", "move_map.json"


@dataclass(frozen=True)
class MoveMap:
    moves: list[dict[str, Any]]
    rewrites: list[dict[str, Any]]

    def files(self) -> dict[str, bytes]:
        """File name -> exact bytes: moves and rewrites as CSV, both in one JSON document."""
        document = {"moves": self.moves, "rewrites": self.rewrites}
        return {
            MOVES_CSV: _csv(MOVES_FIELDS, self.moves),
            REWRITES_CSV: _csv(REWRITES_FIELDS, self.rewrites),
            MAP_JSON: (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode(),
        }


def move_map(
    plan: StoragePlan, pending: list[Transfer], sha256_of: Callable[[Key], str]
) -> MoveMap:
    """Every copy apply makes (PENDING, an earlier run's unfinished ones, and the plan's new ones)
    with its source's size and sha256 (SHA256_OF for one the inventory has not hashed), and every
    rewrite with the reference before and after."""
    transfers = {(t.source, t.dest_bucket, t.dest_name): t for t in [*pending, *plan.new_transfers]}
    moves = []
    for key in sorted(transfers):
        transfer = transfers[key]
        source = plan.inventory[transfer.source]
        moves.append({
            "source_bucket": transfer.source_bucket,
            "source_key": transfer.source_name,
            "dest_bucket": transfer.dest_bucket,
            "dest_key": transfer.dest_name,
            "size": source.size,
            "sha256": source.sha256 or sha256_of(transfer.source),
        })
    rewrites = [
        {
            "table": rewrite.table_name,
            "id": str(rewrite.row_id),
            "column": rewrite.column_name,
            "json_path": list(rewrite.json_path),
            "old_reference": rewrite.old_value,
            "new_reference": rewrite.new_value,
        }
        for rewrite in sorted(
            plan.rewrites, key=lambda r: (r.table_name, str(r.row_id), r.column_name, r.json_path)
        )
    ]
    return MoveMap(moves, rewrites)


def _csv(fields: tuple[str, ...], rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        # A JSON path is a list of keys (any text): written as its JSON array, never joined;
        # empty for a reference that is the column's whole value.
        writer.writerow({name: _cell(value) for name, value in row.items()})
    return buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False) if value else ""
    return value
