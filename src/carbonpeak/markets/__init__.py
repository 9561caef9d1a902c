"""Markets (issue 11, plan action 36): emissions trading, carbon inclusion and energy-use rights.

Domain floor (2): pure functions over typed data; imports only ``catalog``, ``io``, ``model`` and
``errors``; no SQL.  The rules are data (:mod:`carbonpeak.catalog.markets`).

* :mod:`.coverage`   -- coverage screening and a proposed widening (§2)
* :mod:`.allocation` -- 基准线法, 历史强度法, 历史排放法, the national power formula, pre-allocation and
  true-up, free/paid split and reserve, idle-month withdrawal (§2)
* :mod:`.peak_link`  -- the cap against the provincial peak projection and city dual control (§2)
* :mod:`.compliance` -- MRV calendar, obligations, status, penalties, national flexibility, offset
  eligibility at surrender (§4)
* ``ledger``, ``phcer``, ``energy_rights`` -- the registry ledger, carbon inclusion and energy-use
  rights (§3, §5; helper mk-ledger).
"""
