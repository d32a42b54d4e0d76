-- A legacy object's size and hash from the copy that read its bytes first (the inventory left
-- them to it, so that each byte is read once); a recorded hash is never overwritten.
UPDATE :"tool.storage_inventory" SET size = %(size)s, sha256 = %(sha256)s
WHERE bucket = %(bucket)s AND name = %(name)s AND sha256 = ''
