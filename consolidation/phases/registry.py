"""The registry: every phase in the order an operator runs them, with what each builds on.

The CLI, the demo, `plan`, the order guards and the fault trials all read this one list.
"""

from __future__ import annotations

from consolidation.core.errors import UsageError
from consolidation.phases.backup import Backup
from consolidation.phases.constraints import Constraints
from consolidation.phases.contract import Phase
from consolidation.phases.cutover import Cutover
from consolidation.phases.merge import Merge
from consolidation.phases.policies import Policies
from consolidation.phases.storage import Storage

REGISTRY: tuple[Phase, ...] = (Backup(), Merge(), Storage(), Constraints(), Policies(), Cutover())


def by_name(name: str) -> Phase:
    for phase in REGISTRY:
        if phase.name == name:
            return phase
    raise UsageError(
        f"there is no phase {name!r}", hint=f"choose one of: {', '.join(p.name for p in REGISTRY)}"
    )


def names() -> list[str]:
    return [phase.name for phase in REGISTRY]
