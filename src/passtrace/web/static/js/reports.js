// Daily report form: add/remove places, show only the transport fields that apply.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var list = document.getElementById("stops");
  var template = document.getElementById("stop-template");
  var addButton = document.getElementById("add-stop");
  var homeBox = document.getElementById("stayed_home");

  function fieldsFor(stop) {
    var mode = stop.querySelector("[data-field=mode]").value;
    stop.querySelector("[data-ref]").hidden = ["car", "train", "flight"].indexOf(mode) < 0;
    stop.querySelector("[data-seat]").hidden = ["train", "flight"].indexOf(mode) < 0;
  }

  function renumber() {
    var stops = list.querySelectorAll("[data-stop]");
    stops.forEach(function (stop, i) {
      stop.querySelector("[data-stop-no]").textContent = String(i + 1);
      stop.querySelector("[data-transport]").hidden = i === 0;
      if (i === 0) { stop.querySelector("[data-field=mode]").value = ""; }
      stop.querySelector("[data-remove-stop]").hidden = stops.length < 2;
      fieldsFor(stop);
    });
  }

  function wire(stop) {
    stop.querySelector("[data-field=mode]").addEventListener("change", function () {
      fieldsFor(stop);
    });
    stop.querySelector("[data-remove-stop]").addEventListener("click", function () {
      stop.remove();
      renumber();
    });
  }

  function addStop() {
    var stop = template.content.firstElementChild.cloneNode(true);
    var stops = list.querySelectorAll("[data-stop]");
    if (stops.length) {
      // Arriving somewhere new usually starts where the last place ended.
      var last = stops[stops.length - 1];
      stop.querySelector("[data-field=area]").value = last.querySelector("[data-field=area]").value;
    }
    list.appendChild(stop);
    wire(stop);
    renumber();
    return stop;
  }

  function toggleHome() {
    list.hidden = homeBox.checked;
    addButton.hidden = homeBox.checked;
    list.querySelectorAll("input, select").forEach(function (el) { el.disabled = homeBox.checked; });
  }

  // Without JS every row shows; with it, drop trailing empty rows but one.
  var rows = Array.prototype.slice.call(list.querySelectorAll("[data-stop]"));
  var kept = 0;
  rows.forEach(function (stop) {
    var area = stop.querySelector("[data-field=area]").value;
    var arrive = stop.querySelector("[data-field=arrive]").value;
    if (!area && !arrive && kept > 0) {
      stop.remove();
      return;
    }
    kept += 1;
    wire(stop);
  });
  if (!list.querySelector("[data-stop]")) { addStop(); }
  addButton.hidden = false;
  addButton.addEventListener("click", function () {
    addStop().querySelector("[data-field=place]").focus();
  });
  homeBox.addEventListener("change", toggleHome);

  // A recent place fills the empty last row, or a new one: one tap per stop.
  function isEmpty(stop) {
    return ["place", "arrive", "depart", "ref", "seat"].every(function (f) {
      return !stop.querySelector("[data-field=" + f + "]").value;
    });
  }

  var recent = document.getElementById("recent-stops");
  if (recent) {
    recent.hidden = false;
    recent.querySelectorAll("[data-recent]").forEach(function (chip) {
      chip.addEventListener("click", function () {
        if (homeBox.checked) { homeBox.checked = false; toggleHome(); }
        var stops = list.querySelectorAll("[data-stop]");
        var last = stops[stops.length - 1];
        var stop = last && isEmpty(last) ? last : addStop();
        ["area", "place", "arrive", "depart", "mode", "ref", "seat"].forEach(function (f) {
          stop.querySelector("[data-field=" + f + "]").value = chip.dataset[f] || "";
        });
        renumber();
      });
    });
  }
  renumber();
  toggleHome();
}());

// One-tap buttons: show exactly what will be filed, file only on "confirm".
(function () {
  "use strict";
  var quick = document.getElementById("quick-form");
  var preview = document.getElementById("quick-preview");
  if (!quick || !preview) { return; }
  var confirm = document.getElementById("quick-confirm");
  var temperature = document.getElementById("quick-temperature");

  quick.addEventListener("submit", function (event) {
    if (event.submitter === confirm) { return; }
    event.preventDefault();
    if (!temperature.reportValidity()) { return; }
    var kind = event.submitter ? event.submitter.value : "same_as_yesterday";
    confirm.value = kind;
    preview.querySelector("[data-preview-temperature]").textContent = temperature.value;
    preview.querySelectorAll("[data-preview-kind]").forEach(function (part) {
      part.hidden = part.dataset.previewKind !== kind;
    });
    preview.hidden = false;
    confirm.focus();
  });
  document.getElementById("quick-cancel").addEventListener("click", function () {
    preview.hidden = true;
  });
}());
