"""Online monitoring of key energy-consuming units (plan actions 10, 12, 13 and 36; issue 5).

* :mod:`~carbonpeak.monitoring.registry` — what units, meters, output, budgets, reported and
  readings files hold; GB 32100-2015 credit-code check.
* :mod:`~carbonpeak.monitoring.pipeline` — readings → meter-day energy (one Ibis expression for
  DuckDB and Spark) → tce and CO2 → unit totals and rollups.
* :mod:`~carbonpeak.monitoring.rules` and :mod:`~carbonpeak.monitoring.quality` — PUE, product
  limits and surcharges, budgets and inclusion, reported vs metered, digit tests, data quality.
* :mod:`~carbonpeak.store.monitoring` and :mod:`~carbonpeak.workflows.monitoring_run` — versioned
  readings, runs and alerts in the store.
* :mod:`~carbonpeak.monitoring.synthetic` — the seeded synthetic data generator.

Methods and sources: ``docs/methods/monitoring.md``.
"""
