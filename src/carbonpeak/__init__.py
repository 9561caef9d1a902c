"""carbonpeak: a provincial carbon-peak accounting, assessment and monitoring platform.

The package is layered (see ``docs/architecture.md``)::

    catalog -> model -> accounting/targets/scenarios/monitoring/markets -> store
            -> api/web/reports/cli

Domain packages are pure functions over typed data; interfaces do the I/O.
"""

__version__ = "0.1.0"
