"""Access policy: the spec as data, policy SQL, lint, probes that act as each user, reports."""
