SELECT coalesce((SELECT prorettype = 'trigger'::regtype FROM pg_proc WHERE oid = to_regprocedure(%(signature)s)), false)
