"""The staff-list columns an HR office's spreadsheet may have (read by core/tabular.py)."""

from __future__ import annotations

from passtrace.core.tabular import SheetRow, read_sheet

COLUMNS = ("department", "name", "id_number", "phone", "employee_no")
REQUIRED = ("department", "name", "id_number")
ALIASES: dict[str, tuple[str, ...]] = {
    "department": ("部门", "部门名称", "所属部门", "dept"),
    "name": ("姓名", "full name"),
    "id_number": ("身份证号", "身份证号码", "身份证", "id number", "id no", "id",
                  "id card", "id card number"),
    "phone": ("手机号", "手机号码", "手机", "联系电话", "电话", "mobile", "mobile number",
              "phone number"),
    "employee_no": ("工号", "员工编号", "employee no", "employee number", "staff no",
                    "employee id"),
}
StaffRow = SheetRow


def read_staff(data: bytes, filename: str = "") -> list[SheetRow]:
    """Parse an uploaded staff list; raise ValidationFailed if it is unreadable."""
    return read_sheet(
        data, filename, ALIASES, REQUIRED,
        missing_message="The first row must name the columns 部门/department, 姓名/name "
                        "and 身份证号/ID number (手机号/phone and 工号/employee no are "
                        "optional).",
        empty_message="The file has a header row but no staff.")
