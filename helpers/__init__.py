"""Alignment workbook helpers: every piece of logic the notebooks use.

Modules, one concern each:
  paths      project paths              config     settings (YAML, documented defaults)
  schema     canonical tables           load       read + type + validate a data folder
  validate   cross-row/table checks     errors     exception types, validation findings
  periods    fiscal quarters            labels     the en/ja label table
  pipeline   pipeline metrics           funnel     lead funnel (period and cohort views)
  breakdown  by channel / segment       theme      chart theme, Japanese fonts
  fmt        money / rate formatting    sample     the seeded sample-data generator

Importing this package has no side effects (no style changes, no I/O).
"""
