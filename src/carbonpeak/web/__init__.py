"""The dashboard: server-rendered pages (Jinja2) over the API's data access, zh and en.

Charts use Plotly's JavaScript served from the installed ``plotly`` package (no CDN, works
offline).  Pages take the same session cookie as the API; what a page shows goes through the
same scoped data access as the endpoints.
"""

from carbonpeak.web.site import create_site, mount_dashboard

__all__ = ["create_site", "mount_dashboard"]
