"""Consolidate a Supabase chat app's messaging systems on a live database, and prove it."""
