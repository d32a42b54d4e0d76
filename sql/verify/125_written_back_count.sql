-- Legacy rows written back from chat_messages (provenance batch -2): accounted for, with fate linked.
SELECT count(*) FROM :"tool.provenance" WHERE source_table = 'messages' AND batch = %(write_back_batch)s;
