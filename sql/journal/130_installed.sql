-- Whether the tool's schema exists: its phase records' table does (previews never create it).
SELECT to_regclass(%(records)s) IS NOT NULL;
