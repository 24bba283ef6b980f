// Reading a pass: the camera (BarcodeDetector where the browser has one, else
// the vendored jsQR decoder) and a keyboard-wedge scanner typing into a field.

const JSQR_SRC = "/static/vendor/jsqr/jsQR.js";
let jsqrLoading = null;

function loadJsQR() {
  if (window.jsQR) return Promise.resolve(window.jsQR);
  if (!jsqrLoading) {
    jsqrLoading = new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = JSQR_SRC;
      s.onload = () => resolve(window.jsQR);
      s.onerror = () => { jsqrLoading = null; reject(new Error("jsQR did not load")); };
      document.head.appendChild(s);
    });
  }
  return jsqrLoading;
}

async function makeDetector() {
  if ("BarcodeDetector" in window) {
    try {
      const formats = await window.BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
        return async (video) => {
          const codes = await detector.detect(video);
          return codes.length ? codes[0].rawValue : null;
        };
      }
    } catch (e) { /* fall back to jsQR */ }
  }
  const jsQR = await loadJsQR();
  const canvas = document.createElement("canvas");
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  return async (video) => {
    const w = video.videoWidth;
    const h = video.videoHeight;
    if (!w || !h) return null;
    canvas.width = w;
    canvas.height = h;
    ctx.drawImage(video, 0, 0, w, h);
    const found = jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "attemptBoth" });
    return found ? found.data : null;
  };
}

/**
 * Scan QR codes from the camera until stopped. onCode(text) is called once per
 * code (the same code again only after `repeatMs`, so a pass held still is not
 * registered twice). Returns {stop()}.
 */
export async function startCamera(video, onCode, { repeatMs = 4000 } = {}) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment" }, audio: false,
  });
  video.srcObject = stream;
  video.hidden = false;
  await video.play();
  const detect = await makeDetector();
  let running = true;
  let last = "";
  let lastAt = 0;
  const tick = async () => {
    if (!running) return;
    try {
      const text = await detect(video);
      const now = Date.now();
      if (text && (text !== last || now - lastAt > repeatMs)) {
        last = text;
        lastAt = now;
        onCode(text);
      } else if (text) {
        lastAt = now;  // still in view: keep suppressing the repeat
      }
    } catch (e) { /* a frame that cannot be read */ }
    if (running) setTimeout(tick, 120);
  };
  tick();
  return {
    stop() {
      running = false;
      stream.getTracks().forEach((t) => t.stop());
      video.srcObject = null;
      video.hidden = true;
    },
  };
}

/**
 * A keyboard-wedge scanner types the code as a fast burst of keys ending in
 * Enter. onScan(text, fast) gets the field's text on Enter; `fast` tells a
 * scanner burst (under ~50 ms a key) from a person typing or pasting.
 */
export function bindWedge(input, onScan) {
  let first = 0;
  let keys = 0;
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      const text = input.value.trim();
      const fast = keys > 8 && (performance.now() - first) / keys < 50;
      input.value = "";
      first = 0;
      keys = 0;
      if (text) onScan(text, fast);
      return;
    }
    if (ev.key.length === 1) {
      if (!keys) first = performance.now();
      keys += 1;
    }
  });
}
