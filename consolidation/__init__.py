"""Consolidate a Supabase chat app's messaging systems on a live database, and prove it.

The wheel installs the security reviewer's tools and the storage toolkit inside this package
(consolidation.policies, consolidation.storage_migration), so that they never collide with a
project's own `policies` or `storage_migration` package. In a checkout they stand at the top of
the repository; the package's search path then includes that folder, and the same imports work.
"""

from pathlib import Path

_installed = (Path(__file__).parent / "policies").is_dir()
_checkout = Path(__file__).resolve().parent.parent
if not _installed and (_checkout / "policies" / "access_spec.py").is_file():
    __path__.append(str(_checkout))
