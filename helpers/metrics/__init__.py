"""The metrics layer: every figure of metrics.json (pure functions of the canonical tables) and the engine that computes them (DuckDB in process, or the user's warehouse). Imports data and the foundation, never views or report.

Importing this package has no side effects."""
