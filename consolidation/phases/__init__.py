"""The consolidation's phases, one module each, every one the same shape (contract.Phase).

The order they run in and what each builds on is the registry (registry.REGISTRY); the promises
every phase keeps — preview, --apply, gates, refusals, verdicts — are kept by driver.
"""
