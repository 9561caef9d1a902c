"""Typed input records: activity data and indicator observations, with their validation."""

from carbonpeak.model.activity import load_activity, validate_activity
from carbonpeak.model.observation import load_observations

__all__ = ["load_activity", "load_observations", "validate_activity"]
