-- A rolled-back phase's baseline goes: the next apply records its own.
DELETE FROM :"tool.baselines" WHERE phase = %(phase)s;
