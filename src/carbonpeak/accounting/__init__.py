"""The greenhouse-gas inventory engine (plan §三(一)).

Typical use::

    from carbonpeak.model import load_activity
    from carbonpeak.accounting import compile_inventory

    inv = compile_inventory(load_activity(["activity.csv"]), gwp="AR5")
    inv.summary(year=2019, region="GD")
"""

from carbonpeak.accounting.engine import Inventory, compile_inventory

__all__ = ["Inventory", "compile_inventory"]
