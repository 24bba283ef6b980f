"""Site forms as the browser sends them (text), parsed into the API's schemas."""

from __future__ import annotations

import re

from passtrace.sites.schemas import SiteWrite
from passtrace.web.forms import FormModel

# People type lists with Chinese or Latin commas, or semicolons.
LIST_SEPARATORS = re.compile(r"[,，;；]")


def _items(value: str) -> list[str]:
    return [p.strip() for p in LIST_SEPARATORS.split(value) if p.strip()]


class SiteForm(FormModel):
    """Register or update a site (/sites/new); `parse()` gives the API's SiteWrite."""

    code: str = ""
    name: str = ""
    kind: str = ""
    area_code: str = ""
    latitude: str = ""
    longitude: str = ""
    lanes: str = "1"
    opening_hours: str = ""
    fever_threshold: str = ""

    def parse(self) -> SiteWrite:
        """Validate with the API's rules; an empty field takes the API's default."""
        given = {k: v.strip() for k, v in self.model_dump().items() if v.strip()}
        for name in ("lanes", "opening_hours"):
            if name in given:
                given[name] = _items(given[name])
        return SiteWrite.model_validate(given)


class DeviceForm(FormModel):
    """Enrol a thermal scanner at a site."""

    name: str = ""
    lane: str = ""


class StaffForm(FormModel):
    """Put a user on duty at a site."""

    username: str = ""
