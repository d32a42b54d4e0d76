INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, version)
VALUES (%(bucket)s, %(name)s, %(owner)s::uuid, %(owner)s::text, '{"size": 5, "mimetype": "text/plain"}', %(version)s)
