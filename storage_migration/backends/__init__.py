"""Storage backends behind one interface: the Supabase Storage HTTP API and the local stack's store."""

from consolidation.storage_migration.backends.base import ObjectInfo, StorageBackend

__all__ = ["ObjectInfo", "StorageBackend"]
