"""The views layer: labels (en/ja), number formats, chart theme, tables and charts of each notebook. Imports metrics, data and the foundation, never report.

Importing this package has no side effects."""
