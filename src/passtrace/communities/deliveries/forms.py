"""The gate's delivery form as the browser sends it (text), parsed into the API's schema."""

from __future__ import annotations

from passtrace.communities.compounds.page_helpers import clean_text
from passtrace.communities.deliveries.schemas import DeliveryCreate
from passtrace.web.forms import FormModel, text


class DeliveryForm(FormModel):
    """A courier's hand-over at the gate; `parse()` gives DeliveryCreate."""

    site: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    company: str = ""
    courier_phone: str = ""
    parcels: str = "1"
    temperature: str = ""
    note: str = ""
    request_id: str = ""

    def parse(self) -> DeliveryCreate:
        """Validate with the API's rules."""
        return DeliveryCreate.model_validate({
            "id": text(self.request_id), "site": clean_text(self.site, 32),
            "building": self.building, "unit": self.unit, "room": self.room,
            "company": self.company, "courier_phone": text(self.courier_phone),
            "parcels": text(self.parcels) or 1, "temperature": text(self.temperature),
            "note": self.note})
