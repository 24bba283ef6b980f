// "Select all on this page": ticks every checkbox bound to the named form
// (inline handlers are blocked by the page's CSP).
document.addEventListener("DOMContentLoaded", () => {
  for (const box of document.querySelectorAll("input[data-select-all]")) {
    const form = box.getAttribute("data-select-all");
    const members = () => document.querySelectorAll(`input[type=checkbox][form="${form}"]`);
    box.addEventListener("change", () => {
      for (const m of members()) m.checked = box.checked;
    });
  }
});
