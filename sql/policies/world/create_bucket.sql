INSERT INTO storage.buckets (id, name, public) VALUES (%(bucket)s, %(bucket)s, false) ON CONFLICT (id) DO NOTHING
