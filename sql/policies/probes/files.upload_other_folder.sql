INSERT INTO storage.objects (bucket_id, name, owner, owner_id, metadata, version)
VALUES (%(bucket)s, %(other_folder_file)s, %(uid)s::uuid, %(uid)s::text, '{"size": 5, "mimetype": "text/plain"}', %(version)s)
RETURNING id
