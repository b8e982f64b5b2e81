// Prettier Space DSO classifier page: drag-and-drop / file button, preview, predict, bars, CAM toggle.
// Everything shown comes from textContent or data: URLs created here, never from innerHTML.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const zone = $("drop-zone"), input = $("file-input"), preview = $("preview"), button = $("predict");
  const camToggle = $("cam-toggle"), error = $("error"), bars = $("bars");
  let file = null, previewUrl = null, camUrl = null;

  function choose(f) {
    if (!f) return;
    file = f;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(f);
    preview.src = previewUrl;
    preview.hidden = false;
    $("file-name").textContent = f.name + " (" + Math.round(f.size / 1024) + " kB)";
    button.disabled = false;
    camToggle.checked = false;
    camToggle.disabled = true;
    camUrl = null;
    $("result-class").textContent = "";
    bars.replaceChildren();
    $("timing").textContent = "";
    error.textContent = "";
  }

  input.addEventListener("change", () => choose(input.files[0]));
  ["dragenter", "dragover"].forEach((ev) => zone.addEventListener(ev, (e) => {
    e.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((ev) => zone.addEventListener(ev, (e) => {
    e.preventDefault();
    zone.classList.remove("over");
  }));
  zone.addEventListener("drop", (e) => choose(e.dataTransfer.files[0]));

  camToggle.addEventListener("change", () => {
    preview.src = camToggle.checked && camUrl ? camUrl : previewUrl;
  });

  button.addEventListener("click", async () => {
    if (!file) return;
    button.disabled = true;
    error.textContent = "";
    $("result-class").textContent = "…";
    const form = new FormData();
    form.append("image", file, file.name);
    form.append("task", $("task").value);
    form.append("cam", "1");
    try {
      const response = await fetch("/api/predict", { method: "POST", body: form });
      const body = await response.json().catch(() => ({ error: "HTTP " + response.status }));
      if (!response.ok) throw new Error(body.error || ("HTTP " + response.status));
      $("result-class").textContent = body.class;
      bars.replaceChildren();
      for (const [name, p] of Object.entries(body.probabilities)) {
        const row = document.createElement("div");
        row.className = "bar-row";
        const label = document.createElement("span");
        label.className = "bar-label";
        label.textContent = name;
        const track = document.createElement("span");
        track.className = "bar-track";
        const fill = document.createElement("span");
        fill.className = "bar-fill" + (name === body.class ? " top" : "");
        fill.style.width = (100 * p).toFixed(1) + "%";
        track.appendChild(fill);
        const value = document.createElement("span");
        value.className = "bar-value";
        value.textContent = (100 * p).toFixed(1) + " %";
        row.append(label, track, value);
        bars.appendChild(row);
      }
      $("timing").textContent = body.model + " · " + body.elapsed_ms.toFixed(0) + " ms";
      camUrl = typeof body.cam === "string" && body.cam.startsWith("data:image/png;base64,") ? body.cam : null;
      camToggle.disabled = !camUrl;
    } catch (e) {
      $("result-class").textContent = "";
      error.textContent = String(e.message || e);
    } finally {
      button.disabled = false;
    }
  });
})();
