"""The core every layer builds on: config, database access, journal, SQL files, errors, names."""
