"""The data layer: canonical tables, reading and validating a data folder, export mappings, ingest, the sample, the snapshot. Imports only the foundation (helpers.errors, paths, config, settings_schema, storage).

Importing this package has no side effects."""
