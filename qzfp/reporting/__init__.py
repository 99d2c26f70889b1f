"""The report machinery: from a scenario's results to the report folder a planner opens.

Each module does one job:

* :mod:`~qzfp.reporting.run` — what ``qzfp run/summary/compare/sweep`` do (the only module
  that knows the model);
* :mod:`~qzfp.reporting.folders` — the compare/sweep/plan folders: headlines, charts, the
  atomic folder writer;
* :mod:`~qzfp.reporting.batch` — the one batch runner (:class:`~qzfp.reporting.batch.Batch`
  run by a local or Dask executor; ``run_scenario``/``run_many``);
* :mod:`~qzfp.reporting.kernels` — kernel manager, warm kernels, the papermill engine;
* :mod:`~qzfp.reporting.execute` — the warm-kernel pool executing notebooks;
* :mod:`~qzfp.reporting.datafiles` — the data-files hook beside the kernels;
* :mod:`~qzfp.reporting.assemble` — run.json, pages, PDF, index, the move into place;
* :mod:`~qzfp.reporting.outcome` — a scenario's report or why it failed;
* :mod:`~qzfp.reporting.publish` — the one atomic publish (folders and files);
* :mod:`~qzfp.reporting.convert` — an executed notebook as a page without code;
* :mod:`~qzfp.reporting.pages` — the generated pages through jinja2 templates (``templates/``);
* :mod:`~qzfp.reporting.pagestyle`, :mod:`~qzfp.reporting.safehtml`,
  :mod:`~qzfp.reporting.pdf` — what every page shares, its sanitizer, ``report.pdf``;
* :mod:`~qzfp.reporting.workbook` — the budget and table workbooks;
* :mod:`~qzfp.reporting.sections` — the report sections the notebooks call;
* :mod:`~qzfp.reporting.charts` — the charts.
"""
