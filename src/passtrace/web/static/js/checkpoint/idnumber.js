// Resident ID number check (GB 11643-1999), as core/validators.py validate_id_number.
// Returns null when valid, else the key of the message to show.

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432";
const PROVINCES = new Set(("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 "
  + "50 51 52 53 54 61 62 63 64 65 71 81 82 83").split(" "));

// As normalize_id_number: NFKC (full-width digits, superscripts), separators dropped.
export function normalizeId(raw) {
  return raw.normalize("NFKC").replace(/[\s\-\u2010-\u2015\u2212]+/g, "").toUpperCase();
}

export function checkId(raw, today = new Date()) {
  const v = normalizeId(raw);
  if (!/^[0-9A-Z]*$/.test(v)) return "id_foreign";
  if (v.length !== 18) return "id_length";
  if (!/^\d{17}[\dX]$/.test(v)) return "id_chars";
  if (!PROVINCES.has(v.slice(0, 2))) return "id_region";
  const y = Number(v.slice(6, 10));
  const m = Number(v.slice(10, 12));
  const d = Number(v.slice(12, 14));
  const born = new Date(Date.UTC(y, m - 1, d));
  if (m < 1 || m > 12 || d < 1 || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d) {
    return "id_date";
  }
  if (born.getTime() > today.getTime() || y < 1890) return "id_plausible";
  let total = 0;
  for (let i = 0; i < 17; i++) total += Number(v[i]) * WEIGHTS[i];
  if (CHECK[total % 11] !== v[17]) return "id_check";
  return null;
}
