"""The report layer: the runner, one notebook's session, metrics.json recording, the index page, JupyterLab set-up (the benchmarks are in benchmarks/, beside the package). May import every layer.

Importing this package has no side effects."""
