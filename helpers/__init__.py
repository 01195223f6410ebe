"""Alignment workbook helpers: every piece of logic the notebooks use, in layers that import only downward.

    helpers/            foundation: errors (exception types, findings, warning codes), paths, config + settings_schema
                        (settings, documented defaults), labels (the one en/ja label table), storage
                        (atomic writes, locks, deterministic JSON), aliases (the old module names helpers.run,
                        helpers.ingest, ... documented before the layers, each a thin module standing for its new one)
    helpers/data/       schema (canonical tables), load + validate (read, type, check a data folder),
                        values (export cells per locale: 和暦, Salesforce ids, CSV-injection-safe cells),
                        channels (placeholders, case/width variants), periods (fiscal quarters),
                        mapping + ingest (CRM exports -> canonical folder: mapping_spec reads a mapping file
                        (mapping_types its keys and objects, mapping_values its single values, mapping_parse its
                        tables and column rules), cells reads one export cell or header, mapping_checks a column's
                        checks, mapping applies them; sql_source: a mapping's SQL source; ingest_files finds and
                        reads the exports, ingest_checks the checks the loader cannot make, ingest_summary prints),
                        sample (seeded generator; sample_write writes its folder),
                        snapshot (one load per run: typed Parquet)
    helpers/metrics/    engine (aggregates as Ibis expressions, DuckDB in process), pipeline, funnel,
                        breakdown (by channel / segment), funnel_analysis (notebook 02), checklist (01; checklist_answers: the form's save path),
                        velocity (03), health (00), goals (04), limits (null figures and their reasons),
                        core (one period's core metrics.json figures), warehouse (the same in PostgreSQL, a DuckDB file, ...:
                        warehouse_tables finds and checks its tables, warehouse_canonical makes them canonical in
                        its SQL, warehouse_source computes the figures there)
    helpers/views/      display (escaped HTML blocks), fmt (money, rates), theme (charts, Japanese fonts),
                        common (figure formats, reasons), order, interactive, stylesheet, *_views (one per notebook)
    helpers/report/     run (the report runner; kernel its Jupyter kernels, export its HTML pages), session (one
                        notebook's context), record (metrics.json),
                        index_page, lab (JupyterLab set-up), nbtools; the benchmarks live beside the
                        package in benchmarks/ (not shipped)

Data flows one way: data -> metrics -> views -> report (tests/test_layers.py checks every import).
Importing this package has no side effects (no style changes, no I/O).
"""
