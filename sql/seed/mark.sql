-- The seed's mark: only legacy tables carrying it may be dropped by `consolidate stack seed --reset`.
COMMENT ON TABLE public.messages IS 'consolidate stack seed: synthetic legacy dataset'
