"""Alignment workbook helpers: every piece of logic the notebooks use.

Modules, one concern each:
  paths      project paths              config     settings (YAML, documented defaults)
  schema     canonical tables           load       read + type + validate a data folder
  validate   cross-row/table checks     errors     exception types, validation findings
  periods    fiscal quarters            labels     the en/ja label table
  pipeline   pipeline metrics           funnel     lead funnel (period and cohort views)
  breakdown  by channel / segment       theme      chart theme, Japanese fonts
  fmt        money / rate formatting    sample     the seeded sample-data generator
  funnel_analysis  intervals, stage times, SLA, ROI, period over period (notebook 02)
  checklist  checklist scores, evidence, recommendations, answer saving (notebook 01)
  velocity   before/after velocity, LMDI, bootstrap, seasonality, caveats (notebook 03)
  health     data-health figures (notebook 00)   metrics   one period's core metrics.json figures
  mapping    export column mappings    ingest     exports + mapping -> canonical data folder
  values     export cells read per locale: day/month order, 和暦, Salesforce ids, currencies, Excel damage
  run        the report runner          index_page  reports/index.html
  record     metrics.json writer        display / views / *_views / theme / interactive: presentation
  session    one notebook's context     nbtools / bench / bench_scale: maintainer tools
  snapshot   one load per run (typed Parquet snapshot, checksums)
  engine     the metric engine: aggregates as Ibis expressions, DuckDB in process
  warehouse  the same figures computed in the user's warehouse (PostgreSQL, ...)

Importing this package has no side effects (no style changes, no I/O).
"""
