INSERT INTO :"manifest" (table_name, source, rows, source_digest, copy_digest)
VALUES (%(table_name)s, %(source)s, %(rows)s, %(source_digest)s, %(copy_digest)s);
