// The offline queue in IndexedDB: registrations keyed by their UUIDv7, so key
// order is the order they happened on this device. Rows leave the queue only
// when the server acknowledged them (stored or duplicate); rows the server
// refused move to a "refused" store so they cannot block the queue for ever.
// Once synced nothing personal stays on the device: a refused row keeps only its id,
// site, time and the server's error (no ID number, pass text or name), so a lost or
// stolen phone holds no one's clear ID number.

const DB_NAME = "passtrace-checkpoint";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore("queue", { keyPath: "id" });
      req.result.createObjectStore("refused", { keyPath: "id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let dbPromise = null;
function db() {
  if (!dbPromise) dbPromise = open();
  return dbPromise;
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Queue one registration (a batch row with its site); resolves once it is on disk. */
export async function put(row) {
  const tx = (await db()).transaction("queue", "readwrite");
  tx.objectStore("queue").put(row);
  await done(tx);
}

export async function get(id) {
  const tx = (await db()).transaction("queue", "readonly");
  return request(tx.objectStore("queue").get(id));
}

/** The oldest `limit` queued rows of a site, in the order they happened. */
export async function oldest(site, limit) {
  const tx = (await db()).transaction("queue", "readonly");
  const rows = [];
  return new Promise((resolve, reject) => {
    const req = tx.objectStore("queue").openCursor();
    req.onsuccess = () => {
      const cursor = req.result;
      if (!cursor || rows.length >= limit) { resolve(rows); return; }
      if (cursor.value.site === site) rows.push(cursor.value);
      cursor.continue();
    };
    req.onerror = () => reject(req.error);
  });
}

export async function count(store = "queue") {
  const tx = (await db()).transaction(store, "readonly");
  return request(tx.objectStore(store).count());
}

/** What a refused row keeps once the server has answered: nothing that names a person. */
function scrubbed(row, error) {
  return { id: row.id, site: row.site, occurred_at: row.occurred_at, error };
}

/** Remove acknowledged ids; move refused rows (with the server's error) aside, scrubbed;
 *  rows an earlier version kept whole are scrubbed too. */
export async function settle(ackIds, refused) {
  const tx = (await db()).transaction(["queue", "refused"], "readwrite");
  const queue = tx.objectStore("queue");
  const aside = tx.objectStore("refused");
  for (const id of ackIds) queue.delete(id);
  for (const { row, error } of refused) {
    queue.delete(row.id);
    aside.put(scrubbed(row, error));
  }
  const cursor = aside.openCursor();
  cursor.onsuccess = () => {
    const c = cursor.result;
    if (!c) return;
    const v = c.value;
    if (Object.keys(v).some((k) => !["id", "site", "occurred_at", "error"].includes(k))) {
      c.update(scrubbed(v, v.error));
    }
    c.continue();
  };
  await done(tx);
}
