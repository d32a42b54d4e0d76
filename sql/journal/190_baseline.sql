-- A phase's pre-phase checksums or snapshot (what its rollback restores), while it stands.
SELECT checksums FROM :"tool.baselines" WHERE phase = %(phase)s;
