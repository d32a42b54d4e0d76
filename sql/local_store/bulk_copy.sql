COPY pg_temp.local_store_bulk (id, bucket_id, name, owner, metadata, version, created_at) FROM STDIN
