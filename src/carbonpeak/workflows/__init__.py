"""Use cases, each once: the domain engines joined to the store, settings resolved once.

The CLI, the API and the dashboard call these modules and nothing below them:

* :mod:`~carbonpeak.workflows.settings`    -- GWP set, price base year, electricity method, scenario
* :mod:`~carbonpeak.workflows.inventory`   -- compile the inventory of the stored activity data
* :mod:`~carbonpeak.workflows.assessment`  -- assess a year, write its report
* :mod:`~carbonpeak.workflows.projections` -- runs, levers, Monte Carlo, the peak outlook
* :mod:`~carbonpeak.workflows.monitoring`  -- ingest files, review an alert
"""
