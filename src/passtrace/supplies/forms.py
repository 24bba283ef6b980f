"""The supplies pages' form models: text as the browser sends it, parsed into schemas.

Each form carries `form_id`, made when the form is shown: saving claims it
(submissions.py), so a double tap saves once.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from passtrace.core.validators import Day
from passtrace.supplies.schemas import TEXT
from passtrace.web.forms import FormModel, text


class Receipt(BaseModel):
    form_id: uuid.UUID
    item_id: uuid.UUID
    lot_id: uuid.UUID | None = None
    lot_number: str | None = Field(default=None, max_length=40, pattern=TEXT)
    expires_on: Day | None = None
    quantity: int = Field(ge=1, le=10_000_000)
    supplier: str = Field(min_length=1, max_length=80, pattern=TEXT)


class ReceiptForm(FormModel):
    form_id: str = ""
    item_id: str = ""
    lot_id: str = ""
    lot_number: str = ""
    expires_on: str = ""
    quantity: str = ""
    supplier: str = ""

    def parse(self) -> Receipt:
        return Receipt.model_validate({
            "form_id": self.form_id, "item_id": self.item_id, "lot_id": text(self.lot_id),
            "lot_number": text(self.lot_number), "expires_on": text(self.expires_on),
            "quantity": self.quantity.strip(), "supplier": self.supplier.strip()})


class Issue(BaseModel):
    form_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int = Field(ge=1, le=10_000_000)
    consumer: str = Field(min_length=1, max_length=80, pattern=TEXT)
    confirm: bool = False


class IssueForm(FormModel):
    form_id: str = ""
    item_id: str = ""
    quantity: str = ""
    consumer: str = ""
    confirm: str = ""

    def parse(self) -> Issue:
        return Issue.model_validate({
            "form_id": self.form_id, "item_id": self.item_id, "quantity": self.quantity.strip(),
            "consumer": self.consumer.strip(), "confirm": self.confirm == "1"})


class Count(BaseModel):
    form_id: uuid.UUID
    lot_id: uuid.UUID
    counted: int = Field(ge=0, le=10_000_000)
    note: str = Field(default="", max_length=180, pattern=TEXT)


class CountForm(FormModel):
    form_id: str = ""
    lot_id: str = ""
    counted: str = ""
    note: str = ""

    def parse(self) -> Count:
        return Count.model_validate({"form_id": self.form_id, "lot_id": self.lot_id,
                                     "counted": self.counted.strip(),
                                     "note": self.note.strip()})


class TransferReceipt(BaseModel):
    form_id: uuid.UUID
    received_quantity: int = Field(ge=0, le=10_000_000)


class TransferReceiptForm(FormModel):
    form_id: str = ""
    received_quantity: str = ""

    def parse(self) -> TransferReceipt:
        return TransferReceipt.model_validate({
            "form_id": self.form_id, "received_quantity": self.received_quantity.strip()})


class SupplyRequestIn(BaseModel):
    """A request as the page files it: the API's fields for the depot in the path."""

    form_id: uuid.UUID
    item_id: uuid.UUID
    quantity: int = Field(ge=1, le=10_000_000)
    priority: Literal["critical", "high", "normal"]
    needed_by: Day
    justification: str = Field(min_length=1, max_length=500, pattern=TEXT)


class RequestForm(FormModel):
    form_id: str = ""
    item_id: str = ""
    quantity: str = ""
    priority: str = ""
    needed_by: str = ""
    justification: str = ""

    def parse(self) -> SupplyRequestIn:
        return SupplyRequestIn.model_validate({
            "form_id": self.form_id, "item_id": self.item_id,
            "quantity": self.quantity.strip(), "priority": self.priority,
            "needed_by": self.needed_by.strip(), "justification": self.justification.strip()})


class Decision(BaseModel):
    form_id: uuid.UUID
    action: Literal["approve", "partly", "reject"]
    approved_quantity: int | None = Field(default=None, ge=0, le=10_000_000)
    reason: str = Field(default="", max_length=500, pattern=TEXT)


class DecisionForm(FormModel):
    form_id: str = ""
    action: str = ""
    approved_quantity: str = ""
    reason: str = ""

    def parse(self) -> Decision:
        return Decision.model_validate({
            "form_id": self.form_id, "action": self.action,
            "approved_quantity": text(self.approved_quantity), "reason": self.reason.strip()})


class Commit(BaseModel):
    form_id: uuid.UUID
    warehouse_id: uuid.UUID
    item_id: uuid.UUID


class CommitForm(FormModel):
    form_id: str = ""
    warehouse_id: str = ""
    item_id: str = ""

    def parse(self) -> Commit:
        return Commit.model_validate({"form_id": self.form_id,
                                      "warehouse_id": self.warehouse_id,
                                      "item_id": self.item_id})
