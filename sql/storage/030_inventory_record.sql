-- One legacy object as first seen: a later run never overwrites what the first one recorded.
INSERT INTO :"tool.storage_inventory" (bucket, name, size, sha256, etag, content_type)
VALUES (%(bucket)s, %(name)s, %(size)s, %(sha256)s, %(etag)s, %(content_type)s)
ON CONFLICT (bucket, name) DO NOTHING
